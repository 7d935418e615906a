import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface Manifest {
  exports: Record<string, unknown>;
  typesVersions: Record<string, Record<string, string[]>>;
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as Manifest;
const subpaths = Object.keys(manifest.exports)
  .filter((key) => key !== '.' && key !== './package.json')
  .map((key) => key.slice('./'.length));

describe('@jobline/libs subpaths', () => {
  it.each(subpaths)('%s is its folder’s index, for Node (exports) and for tsc (typesVersions)', (name) => {
    expect(existsSync(join(__dirname, name, 'index.ts'))).toBe(true);
    expect(manifest.exports[`./${name}`]).toEqual({
      types: `./dist/${name}/index.d.ts`,
      default: `./dist/${name}/index.js`,
    });
    // The services compile with moduleResolution node10, which reads typesVersions and not exports.
    expect(manifest.typesVersions['*']?.[name]).toEqual([`dist/${name}/index.d.ts`]);
  });

  it('exports every folder that has an index, except the test helpers, which are not built', () => {
    const folders = readdirSync(__dirname, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(__dirname, entry.name, 'index.ts')))
      .map((entry) => entry.name)
      .filter((name) => name !== 'testing');

    expect(subpaths.sort()).toEqual(folders.sort());
    expect(Object.keys(manifest.typesVersions['*'] ?? {}).sort()).toEqual(folders.sort());
  });

  it.each(subpaths)('the root export still offers everything %s does', async (name) => {
    const root = (await import('@jobline/libs')) as Record<string, unknown>;
    const subpath = (await import(`@jobline/libs/${name}`)) as Record<string, unknown>;

    const missing = Object.keys(subpath).filter((key) => key !== 'default' && root[key] !== subpath[key]);
    expect(missing).toEqual([]);
  });
});
