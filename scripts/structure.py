#!/usr/bin/env python3
"""Draws the structure of the workspace and checks it: crates in layers, files without circles.

    scripts/structure.py           check; print the crate graph and any violation (exit 1 if any)
    scripts/structure.py --write   also write docs/structure.md (the drawn structure)

What is checked:
* Crate layers. Every workspace crate has a layer (LAYERS below); a crate may depend (normal,
  build or dev dependencies on workspace crates, from each Cargo.toml) only on crates of a lower
  layer; ALLOWED_DEV_UPWARDS names the dev-dependencies that may point up, with the reason. No crate may depend on a
  crate that has a binary unless it is the e2e test crate (which runs the binaries).
* No import circle between files. Inside each crate, a file imports another when its code (not
  its comments, not its `#[cfg(test)] mod tests`) names `crate::a::b`, `super::x` or
  `self::x` that resolves to that file, or `use a::…` of one of its own child modules. Edges
  between a module and its own parent or children are structure, not imports, and are left out
  (a child using its parent's types is how Rust modules nest). Any other strongly connected set
  of files is a circle.
"""
import os
import re
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Lowest first. primitives ← pallets ← runtime ← node; primitives ← prover crates; primitives ←
# client crates; the e2e tests on top. A crate depends only on lower layers.
LAYERS = [
	["emr-primitives", "emr-rpc-types"],
	[
		"pallet-emr-registry",
		"pallet-consent",
		"pallet-emr-validators",
		"pallet-emr-eth-bridge",
		"emr-circuit",
		"emr-client-core",
	],
	["pallet-rollup", "emr-state-store", "emr-client"],
	["emr-runtime", "emr-cli"],
	["emr-worker"],
	["emr-settlement"],
	["emr-node", "emr-prover"],
	["emr-tests"],
]
# Dev-dependencies that point up, and why (cargo allows them: tests build after both crates).
ALLOWED_DEV_UPWARDS = {
	# The circuit's tests and benchmark build witnesses from a real state store.
	("emr-circuit", "emr-state-store"),
}


def workspace_crates():
	manifest = tomllib.load(open(os.path.join(ROOT, "Cargo.toml"), "rb"))
	crates = {}
	for member in manifest["workspace"]["members"]:
		path = os.path.join(ROOT, member)
		toml = tomllib.load(open(os.path.join(path, "Cargo.toml"), "rb"))
		name = toml["package"]["name"]
		deps, dev = set(), set()
		for table in ("dependencies", "dev-dependencies", "build-dependencies"):
			for dep, spec in toml.get(table, {}).items():
				if isinstance(spec, dict) and "package" in spec:
					dep = spec["package"]
				(dev if table == "dev-dependencies" else deps).add(dep)
		dev -= deps
		has_bin = "bin" in toml or os.path.exists(os.path.join(path, "src", "main.rs"))
		crates[name] = {"path": path, "deps": deps, "dev": dev, "bin": has_bin, "member": member}
	names = set(crates)
	for crate in crates.values():
		crate["dev"] = crate["dev"] & names
		crate["deps"] = sorted((crate["deps"] & names) | crate["dev"])
	return crates


def layer_of(name):
	for i, layer in enumerate(LAYERS):
		if name in layer:
			return i
	return None


def check_layers(crates):
	errors = []
	for name, crate in sorted(crates.items()):
		mine = layer_of(name)
		if mine is None:
			errors.append(f"crate {name} has no layer in scripts/structure.py")
			continue
		for dep in crate["deps"]:
			theirs = layer_of(dep)
			if theirs is None:
				continue
			upward_dev = dep in crate["dev"] and (name, dep) in ALLOWED_DEV_UPWARDS
			if theirs >= mine and not upward_dev:
				errors.append(f"crate {name} (layer {mine}) depends on {dep} (layer {theirs}): an arrow upwards")
			if crates[dep]["bin"] and name != "emr-tests":
				errors.append(f"crate {name} depends on {dep}, a crate with a binary")
	return errors


CODE_PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP = re.compile(r"\buse\s+(crate|super|self)::\{([^;]*)\}", re.S)


def strip(text):
	"""The code of a file without comments, strings and its trailing test module."""
	text = re.sub(r"//[^\n]*", "", text)
	text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
	text = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', text)
	cut = re.search(r"#\[cfg\(test\)\]\s*(pub\s+)?mod\s+\w+\s*\{", text)
	return text[: cut.start()] if cut else text


def module_files(src):
	"""Module path (tuple) → file, for every .rs file under src."""
	files = {}
	for dirpath, _, names in os.walk(src):
		for n in names:
			if not n.endswith(".rs"):
				continue
			rel = os.path.relpath(os.path.join(dirpath, n), src)
			parts = rel[:-3].split(os.sep)
			if parts[-1] in ("mod", "lib", "main"):
				parts = parts[:-1]
			files[tuple(parts)] = rel
	return files


def resolve(files, path):
	"""The deepest file that module path `path` (tuple of names) lands in."""
	for n in range(len(path), -1, -1):
		if tuple(path[:n]) in files:
			return tuple(path[:n])
	return None


def file_graph(src):
	files = module_files(src)
	edges = {m: set() for m in files}
	for module, rel in files.items():
		code = strip(open(os.path.join(src, rel), encoding="utf-8").read())
		is_dir_module = os.path.basename(rel) in ("mod.rs", "lib.rs", "main.rs")
		here = module if is_dir_module else module[:-1]  # what `self::` and children resolve from
		paths = []
		for base, rest in CODE_PATH.findall(code):
			paths.append((base, rest.strip(":").split("::")))
		for base, group in USE_GROUP.findall(code):
			for item in re.split(r",", group):
				item = item.strip().split(" as ")[0].strip()
				first = re.split(r"::|\{", item)[0].strip()
				if first and first != "self":
					paths.append((base, [first]))
		for base, names in paths:
			if base == "crate":
				target = resolve(files, names)
			elif base == "self":
				target = resolve(files, list(module) + names)
			else:  # super
				parent = list(module[:-1]) if is_dir_module else list(module[:-1])
				if not is_dir_module:
					parent = list(module[:-1])
				target = resolve(files, parent + names)
			if target is None or target == module:
				continue
			# Parent and child modules are structure, not imports.
			if target == module[: len(target)] or module == target[: len(module)]:
				continue
			edges[module].add(target)
	return files, edges


def circles(edges):
	"""Strongly connected sets of more than one file (Tarjan)."""
	index, low, stack, on, out = {}, {}, [], set(), []
	counter = [0]

	def visit(v):
		index[v] = low[v] = counter[0]
		counter[0] += 1
		stack.append(v)
		on.add(v)
		for w in sorted(edges[v]):
			if w not in index:
				visit(w)
				low[v] = min(low[v], low[w])
			elif w in on:
				low[v] = min(low[v], index[w])
		if low[v] == index[v]:
			comp = []
			while True:
				w = stack.pop()
				on.discard(w)
				comp.append(w)
				if w == v:
					break
			if len(comp) > 1:
				out.append(sorted(comp))

	sys.setrecursionlimit(10000)
	for v in sorted(edges):
		if v not in index:
			visit(v)
	return out


def name(module):
	return "/".join(module) or "lib"


def main():
	write = "--write" in sys.argv[1:]
	crates = workspace_crates()
	errors = check_layers(crates)
	file_counts = {}
	for cname, crate in sorted(crates.items()):
		src = os.path.join(crate["path"], "src")
		if not os.path.isdir(src):
			continue
		files, edges = file_graph(src)
		file_counts[cname] = len(files)
		for comp in circles(edges):
			errors.append(f"import circle in {cname}: " + " → ".join(name(m) for m in comp))

	lines = ["```mermaid", "graph BT"]
	for cname in sorted(crates):
		label = f"{cname}" + (" (bin)" if crates[cname]["bin"] else "")
		lines.append(f'  {cname.replace("-", "_")}["{label}"]')
	for cname, crate in sorted(crates.items()):
		for dep in crate["deps"]:
			if cname == "emr-tests":
				continue
			lines.append(f'  {cname.replace("-", "_")} --> {dep.replace("-", "_")}')
	lines.append("```")
	print("crate layers (lowest first):")
	for i, layer in enumerate(LAYERS):
		print(f"  {i}: " + ", ".join(c for c in layer if c in crates))
	for cname, crate in sorted(crates.items()):
		print(f"  {cname} ({file_counts.get(cname, 0)} files) → {', '.join(crate['deps']) or '-'}")
	if write:
		doc = os.path.join(ROOT, "docs", "structure.md")
		with open(doc, "w") as f:
			f.write("# The structure of the workspace\n\n")
			f.write("Generated by `scripts/structure.py --write`; `scripts/test.sh` checks it (no arrow from a\n")
			f.write("lower layer up, no crate depending on a binary crate, no import circle between files).\n")
			f.write("Arrows point from a crate to what it depends on; the e2e test crate `emr-tests`, which\n")
			f.write("depends on everything, is left out.\n\n")
			f.write("Layers, lowest first:\n\n")
			for i, layer in enumerate(LAYERS):
				f.write(f"{i}. " + ", ".join(f"`{c}`" for c in layer if c in crates) + "\n")
			f.write("\n" + "\n".join(lines) + "\n")
	if errors:
		print("structure: FAILED", file=sys.stderr)
		for e in errors:
			print("  " + e, file=sys.stderr)
		return 1
	print(f"structure: {len(crates)} crates in layers, no arrow upwards, no import circle between files")
	return 0


if __name__ == "__main__":
	sys.exit(main())
