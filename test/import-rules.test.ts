import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'vitest';

/**
 * The import rules of DESIGN.md section 5 (docs/DECISIONS.md, "Where each concept lives"), read from
 * the source: every relative import of every file under src/, `import type` included.
 */
const ROOT = resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'(\.[^']+)'|(?:^|\n)\s*import\s*'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g;

/** The file an import names: `x.js` is `x.ts`; the console names its modules without extension. */
function resolveSource(path: string): string {
  if (path.endsWith('.js')) return path.replace(/\.js$/, '.ts');
  if (/\.tsx?$/.test(path)) return path;
  for (const ext of ['.ts', '.tsx', '/index.ts', '/index.tsx']) {
    try {
      readFileSync(path + ext);
      return path + ext;
    } catch {}
  }
  return path;
}

/** file → the files it imports, as paths from the repository root. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      targets.add(relative(ROOT, resolveSource(resolve(dirname(file), spec))));
    }
    graph.set(relative(ROOT, file), [...targets]);
  }
  return graph;
}

/** The loops of files (strongly connected components of more than one file, or a file importing itself). */
function importLoops(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const loops: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) loops.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return loops;
}

const folderOf = (path: string): string => path.split('/')[1]!;

/** [from folder, to folder]: imports that must not be, with why. */
const FORBIDDEN: ReadonlyArray<{ from: RegExp; to: RegExp; why: string }> = [
  { from: /^domain$/, to: /^(?!domain$)/, why: 'domain imports nothing of ours' },
  { from: /^engine$/, to: /^(?!(domain|engine)$)/, why: 'engine imports domain only' },
  {
    from: /^call$/,
    to: /^(?!(domain|engine|call)$)/,
    why: 'the screening core imports domain and engine only',
  },
  { from: /^store$/, to: /^(pbx|notify|jobs|api|app|cli)$/, why: 'store is below every feature' },
  {
    from: /^pbx$/,
    to: /^(notify|jobs|api|app|cli)$/,
    why: 'a feature imports no sibling nor a face above it',
  },
  {
    from: /^notify$/,
    to: /^(pbx|jobs|api|app|cli)$/,
    why: 'a feature imports no sibling nor a face above it',
  },
  {
    from: /^jobs$/,
    to: /^(pbx|notify|api|app|cli)$/,
    why: 'a feature imports no sibling nor a face above it',
  },
  { from: /^api$/, to: /^(app|cli)$/, why: 'the API is wired by src/app, not the other way round' },
  { from: /^app$/, to: /^cli$/, why: 'the CLI calls src/app, not the other way round' },
];

function directionViolations(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [file, targets] of graph) {
    const from = folderOf(file);
    // src/config.ts, src/log.ts...: shared by all; only the folders have rules.
    if (file.split('/').length < 3) continue;
    for (const target of targets) {
      if (!target.startsWith('src/') || target.split('/').length < 3) continue;
      const to = folderOf(target);
      for (const rule of FORBIDDEN)
        if (rule.from.test(from) && rule.to.test(to)) out.push(`${file} -> ${target}: ${rule.why}`);
    }
  }
  return out;
}

describe('import rules of src/', () => {
  const graph = importGraph(sourceFiles(join(ROOT, 'src')));

  it('reads the imports it checks', () => {
    assert.ok(graph.size > 150, `${graph.size} files`);
    assert.ok(graph.get('src/app/role-starters.ts')?.includes('src/app/api-role.ts'));
    assert.ok(graph.get('src/app/call-roles.ts')?.includes('src/pbx/asterisk/ari-app.ts'), 'import() too');
    assert.deepEqual(directionViolations(new Map([['src/store/x.ts', ['src/jobs/y.ts']]])), [
      'src/store/x.ts -> src/jobs/y.ts: store is below every feature',
    ]);
    assert.deepEqual(
      importLoops(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['a']],
        ]),
      ),
      [['a', 'b', 'c']],
    );
  });

  it('every import runs the way DESIGN.md section 5 draws the folders', () => {
    assert.deepEqual(directionViolations(graph), []);
  });

  it('no files import each other in a loop', () => {
    assert.deepEqual(importLoops(graph), []);
  });
});

describe('import rules of console/', () => {
  const graph = importGraph(sourceFiles(join(ROOT, 'console/src')));

  it('reads the imports it checks', () => {
    assert.ok(graph.get('console/src/pages/blocklist-page.tsx')?.includes('console/src/api.ts'));
  });

  it('no files import each other in a loop', () => {
    assert.deepEqual(importLoops(graph), []);
  });
});
