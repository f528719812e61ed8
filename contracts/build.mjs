// Compiles contracts/src/*.sol with the pinned solc (standard JSON, optimizer on, evmVersion
// prague) and writes <out>/<Name>.json ({abi, bytecode}) for each deployable contract and
// <out>/sources.sha256. Called by build.sh, which installs solc and passes its location.
//
// usage: node build.mjs <node_modules dir> <out dir>
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [modules, out] = process.argv.slice(2);
if (!modules || !out) {
	console.error("usage: node build.mjs <node_modules dir> <out dir>");
	process.exit(2);
}
const require = createRequire(join(modules, "noop.js"));
const solc = require("solc");

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, "src");
const files = readdirSync(srcDir).filter((f) => f.endsWith(".sol")).sort();
const sources = {};
for (const f of files) {
	sources[`src/${f}`] = { content: readFileSync(join(srcDir, f), "utf8") };
}
const input = {
	language: "Solidity",
	sources,
	settings: {
		evmVersion: "prague",
		optimizer: { enabled: true, runs: 200 },
		viaIR: true,
		metadata: { bytecodeHash: "none", appendCBOR: false },
		outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
	},
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
let failed = false;
for (const e of output.errors ?? []) {
	console.error(e.formattedMessage);
	// Warnings fail the build too.
	failed = true;
}
if (failed) process.exit(1);

// The contracts one deploys; libraries and interfaces have no artifact.
const deployable = ["BeefyClient", "EmrRollup", "EmrL1Baseline"];
mkdirSync(out, { recursive: true });
for (const [file, contracts] of Object.entries(output.contracts)) {
	for (const [name, c] of Object.entries(contracts)) {
		if (!deployable.includes(name)) continue;
		const artifact = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
		writeFileSync(join(out, `${name}.json`), `${JSON.stringify(artifact, null, "\t")}\n`);
		console.error(`${file}:${name}: ${c.evm.bytecode.object.length / 2} bytes of init code`);
	}
}
const sums = files
	.map((f) => {
		const hash = createHash("sha256").update(readFileSync(join(srcDir, f))).digest("hex");
		return `${hash}  src/${f}\n`;
	})
	.join("");
writeFileSync(join(out, "sources.sha256"), sums);
console.error(`solc ${solc.version()}`);
