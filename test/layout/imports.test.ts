/**
 * The layout's rules, checked on the source: clients of a run import its contract, never the workflow
 * code; workflows touch no database code; and no module imports itself back through others.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const FOLDERS = [
  'activities',
  'api',
  'config',
  'contracts',
  'db',
  'domain',
  'infra',
  'scripts',
  'temporal',
  'worker',
  'workflows',
  'bench',
  'drill',
];

function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const f of FOLDERS) if (fs.existsSync(path.join(ROOT, f))) walk(path.join(ROOT, f));
  return out;
}

/** Relative imports of a file (type-only ones included: they still tie the modules together). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/g)) {
    const base = path.resolve(path.dirname(file), m[1]);
    const found = [`${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')].find((c) => fs.existsSync(c));
    if (found) out.push(found);
  }
  return out;
}

const rel = (f: string) => path.relative(ROOT, f);

describe('the layout', () => {
  const files = sources();
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it('api/, temporal/ and scripts/ never import workflow code; workflows/ never import db/', () => {
    const offending: string[] = [];
    for (const [file, deps] of graph) {
      const from = rel(file).split(path.sep)[0];
      for (const dep of deps) {
        const to = rel(dep).split(path.sep)[0];
        if (['api', 'temporal', 'scripts'].includes(from) && to === 'workflows') offending.push(`${rel(file)} → ${rel(dep)}`);
        if (from === 'workflows' && to === 'db') offending.push(`${rel(file)} → ${rel(dep)}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('has no import circle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const d of graph.get(f) ?? []) {
        if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].map(rel).join(' → '));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
