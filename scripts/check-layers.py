#!/usr/bin/env python3
"""Fails on an include that goes up the layer stack of docs/architecture.md.

Each folder of include/pagoda/ (and its src/ and cuda/ counterparts:
src/<layer>/, cuda/<layer>/) is a layer; a file may include headers of its own layer and of the layers below
it. Usage: check-layers.py [REPO_ROOT]. Prints every upward include not on
the allow-list, and allow-list entries that no longer match anything; exits 1
if there is either.
"""
import pathlib
import re
import sys

# Lowest first: the order of the table in docs/architecture.md.
LAYERS = ["core", "gguf", "quant", "text", "mapping", "model", "kernels", "runtime", "cpu", "api"]

# Known upward includes, each with the reason it stays (docs/architecture.md,
# "Allowed exceptions"). Keys are (file relative to the root, included layer).
ALLOWED = {
    # A GGUF file is opened by mapping it read-only, and the policies take that
    # mapping: mapping::ReadOnlyFile is a leaf that uses core only.
    ("include/pagoda/gguf/mapped_file.hpp", "mapping"),
    # The sampling arithmetic (runtime::SamplingParams, host and device) is
    # shared by the CUDA sampler, the CPU sampler and EngineOptions, so the
    # GPU and CPU pick the same token; it is a plain value using core only.
    ("include/pagoda/kernels/sampling.cuh", "runtime"),
    # AnyEngine is the sum of every engine, the CPU reference engine included;
    # only the api layer (pagoda::Model) and the apps use it.
    ("include/pagoda/runtime/any_engine.hpp", "cpu"),
    # The synthetic-model generator fills its tensors on the CPU's thread pool.
    ("src/model/synthetic.cpp", "cpu"),
    # DeviceCopy repacks the GGUF blocks it copied into field streams on the
    # GPU, right after the copy (kernels::repack_streams, one scratch chunk).
    ("cuda/mapping/device_copy.cu", "kernels"),
}

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]pagoda/([a-z_]+)/[^>"]+[>"]')


def layer_of(path: pathlib.Path) -> str | None:
    parts = path.parts
    if parts[0] == "include" and len(parts) > 2 and parts[1] == "pagoda":
        return "api" if len(parts) == 3 else parts[2]  # include/pagoda/pagoda.hpp is the api
    if parts[0] in ("src", "cuda") and len(parts) > 2:
        return parts[1]  # cuda/templates and cuda/*.cmake are no layer
    return None


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    files = [p for d in ("include/pagoda", "src", "cuda") for p in sorted((root / d).rglob("*"))
             if p.suffix in (".hpp", ".cuh", ".cpp", ".cu", ".h")]
    violations, used = [], set()
    for file in files:
        rel = file.relative_to(root)
        layer = layer_of(rel)
        if layer not in LAYERS:
            continue
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            match = INCLUDE.match(line)
            if not match or match.group(1) not in LAYERS:
                continue
            target = match.group(1)
            if LAYERS.index(target) <= LAYERS.index(layer):
                continue
            key = (rel.as_posix(), target)
            if key in ALLOWED:
                used.add(key)
                continue
            violations.append(f"{rel}:{number}: layer '{layer}' includes the higher layer '{target}': {line.strip()}")
    stale = [f"allow-list entry {k} matches no include any more: remove it" for k in ALLOWED if k not in used]
    for line in violations + stale:
        print(line)
    if violations or stale:
        print(f"check-layers: {len(violations)} upward include(s), {len(stale)} stale allow-list entr(y/ies)")
        return 1
    print(f"check-layers: {len(files)} files, no upward include outside the {len(ALLOWED)} allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
