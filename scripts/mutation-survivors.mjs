// A StrykerJS reporter, `survivors`: each mutant that no test detected (survived, or reached by no
// test), and each that timed out (worth a second look on a loaded machine), is appended to
// reports/mutation/<part>.survivors.jsonl as soon as it is known, one JSON line with its status, file,
// place, mutator and replacement, so tests can be written while a long run goes on.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { commonTokens, declareClassPlugin, PluginKind, tokens } from '@stryker-mutator/api/plugin';

class SurvivorsReporter {
  static inject = tokens(commonTokens.options);
  #file;

  constructor(options) {
    this.#file = options.survivorsFile ?? 'reports/mutation/survivors.jsonl';
    mkdirSync(path.dirname(this.#file), { recursive: true });
    writeFileSync(this.#file, '');
  }

  onMutantTested(result) {
    if (!['Survived', 'NoCoverage', 'Timeout'].includes(result.status)) return;
    const { fileName, location, mutatorName, replacement, status, id } = result;
    appendFileSync(
      this.#file,
      `${JSON.stringify({ id, status, file: path.relative(process.cwd(), fileName), line: location.start.line, column: location.start.column + 1, mutator: mutatorName, replacement })}\n`,
    );
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'survivors', SurvivorsReporter)];
export const strykerValidationSchema = {
  properties: { survivorsFile: { type: 'string', description: 'Where the survivors reporter writes.' } },
};
