// The build steps hio's JavaScript and C doers need, through the pinned
// npm packages (package.json): no other toolchain.
//
//   node tools.mjs componentize SOURCE.js WIT_DIR WORLD OUT.wasm
//     A JavaScript module made a component (componentize-js, StarlingMonkey)
//     with no WASI features beyond what the world imports.
//   node tools.mjs new CORE.wasm OUT.wasm
//     A core module with an embedded component type (wit-bindgen's C
//     output) made a component, with the WASI preview-1 reactor adapter
//     for whatever WASI calls it makes.
import { readFile, writeFile } from 'node:fs/promises';
import { componentize } from '@bytecodealliance/componentize-js';
import { componentNew, preview1AdapterReactorPath } from '@bytecodealliance/jco';

const [command, ...args] = process.argv.slice(2);

async function main() {
  if (command === 'componentize' && args.length === 4) {
    const [sourcePath, witPath, worldName, out] = args;
    const { component } = await componentize({
      sourcePath,
      witPath,
      worldName,
      disableFeatures: ['random', 'stdio', 'clocks', 'http', 'fetch-event'],
    });
    await writeFile(out, component);
  } else if (command === 'new' && args.length === 2) {
    const [core, out] = args;
    const adapter = await readFile(preview1AdapterReactorPath());
    const component = await componentNew(await readFile(core), [
      ['wasi_snapshot_preview1', adapter],
    ]);
    await writeFile(out, component);
  } else {
    console.error('usage: node tools.mjs componentize SOURCE.js WIT_DIR WORLD OUT.wasm');
    console.error('       node tools.mjs new CORE.wasm OUT.wasm');
    process.exit(2);
  }
}

main().catch((e) => {
  console.error(`${command}: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
