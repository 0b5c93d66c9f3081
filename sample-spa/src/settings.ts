/**
 * The app's settings, put into the page by the backend from the mock AS's seed (one source of truth
 * for resources, scopes and personas): `<script type="application/json" id="tmi-bff-settings">`.
 */

export interface ResourceSetting {
  /** RFC 8707 resource indicator; in this demo world also the API's base URL. */
  identifier: string;
  name: string;
  /** Scope → what it lets the app do. */
  scopes: Record<string, string>;
  /** Whether sign-in asks for it: a resource it does not ask for answers backend_not_ready. */
  atSignIn: boolean;
}

export interface Persona {
  username: string;
  name: string;
  persona: string;
  /** The AS refuses these scopes to this user (the seed's account policy). */
  denied_scopes?: string[];
  /** False: the AS gives the backend no refresh token at this user's sign-in (backend_not_ready). */
  refresh_tokens?: boolean;
}

export interface Settings {
  resources: ResourceSetting[];
  personas: Persona[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export function readSettings(doc: Document): Settings {
  const text = doc.getElementById('tmi-bff-settings')?.textContent ?? '';
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  if (!isObject(raw) || !Array.isArray(raw.resources) || !Array.isArray(raw.personas)) {
    throw new Error('the page carries no settings: serve it through the reference backend (npm run dev)');
  }
  return {
    resources: raw.resources.filter(
      (r): r is ResourceSetting => isObject(r) && typeof r.identifier === 'string' && isObject(r.scopes),
    ),
    personas: raw.personas.filter((p): p is Persona => isObject(p) && typeof p.username === 'string'),
  };
}

/** The resource that offers `scope` (the demo finds its APIs by what they do, not by URL). */
export function resourceWith(settings: Settings, scope: string, atSignIn?: boolean): ResourceSetting | undefined {
  return settings.resources.find((r) => scope in r.scopes && (atSignIn === undefined || r.atSignIn === atSignIn));
}
