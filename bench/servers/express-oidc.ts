/**
 * The comparison: Auth0's express-openid-connect, set up as its docs show for a confidential client
 * with the authorization code flow, and a `GET /token` route that answers the session's access
 * token, refreshed first when it has expired (`req.oidc.accessToken.isExpired()` / `refresh()`).
 * Its session is its default: the tokens in an encrypted cookie.
 */
import express from 'express';
import openidConnect from 'express-openid-connect';
import { serveUntilStopped } from './serve.js';

// A CommonJS package: its named exports come through the default import.
const { auth, requiresAuth } = openidConnect;

const port = Number(process.env.BENCH_EXPRESS_PORT);
const baseURL = `http://127.0.0.1:${port}`;

const app = express();
app.use(
  auth({
    authRequired: false,
    baseURL,
    issuerBaseURL: process.env.BENCH_ISSUER ?? '',
    clientID: process.env.BENCH_EXPRESS_CLIENT_ID ?? '',
    clientSecret: process.env.BENCH_EXPRESS_CLIENT_SECRET ?? '',
    secret: 'a-long-random-secret-for-the-bench-only-0123456789',
    authorizationParams: {
      response_type: 'code',
      response_mode: 'query',
      scope: 'openid profile email offline_access',
    },
  }),
);
app.get('/token', requiresAuth(), async (req, res) => {
  let accessToken = req.oidc.accessToken;
  if (accessToken?.isExpired()) accessToken = await accessToken.refresh();
  res.json({ access_token: accessToken?.access_token, expires_in: accessToken?.expires_in });
});

await serveUntilStopped(app.listen(port, '127.0.0.1'));
