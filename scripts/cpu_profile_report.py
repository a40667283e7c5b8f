"""Turns `perf report --no-children --sort symbol --stdio` (stdin) into docs/results/cpu-profile.md:
self time by function and by kind, and burn-flex's convolution by source line. Arguments: the
profiled program's own timing line, `perf annotate -l` summary lines of `conv3d_f32`, and the path
of burn-flex's conv.rs (to quote those lines)."""
import re
import subprocess
import sys

KINDS = [
    ("convolution layout work (burn-flex `conv3d_f32`: weights re-laid out for gemm, input to channels-last, im2col tiles, output back; its gemm calls are counted apart)", re.compile(r"burn_flex::ops::conv::")),
    ("gemm (the multiply-accumulates: `gemm` microkernels and packing)", re.compile(r"gemm")),
    ("element-wise and reduction SIMD kernels (macerator)", re.compile(r"macerator")),
    ("memory (memset, memmove, malloc, free)", re.compile(r"mem(set|move|cpy)|malloc|_int_free|cfree|calloc|unlink_chunk|_int_malloc")),
]

rows = []
for line in sys.stdin:
    m = re.match(r"\s+([0-9.]+)%\s+\[[.k]\]\s+(.*?)\s*$", line)
    if m:
        rows.append((float(m.group(1)), m.group(2).rstrip(" -")))
by_kind = {name: 0.0 for name, _ in KINDS}
by_kind["everything else"] = 0.0
for pct, sym in rows:
    for name, pattern in KINDS:
        if pattern.search(sym):
            by_kind[name] += pct
            break
    else:
        by_kind["everything else"] += pct
cpu = subprocess.run("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2", shell=True,
                     capture_output=True, text=True).stdout.strip()
print("# Where the CPU backend's time goes (one photo, every exit)\n")
print("Command: `scripts/cpu-profile.sh` (perf sampling at 2 kHz of `scripts/cpu-profile`: the default model on one")
print("fixture photo, every exit, burn-flex with its SIMD kernels, **natively on x86-64** — perf cannot look inside")
print("the browser's WebAssembly; the page runs the same Rust code compiled to wasm SIMD128, where the gemm")
print(f"microkernel is narrower, so its share there is larger). Machine: {cpu}.\n")
print(f"Timing: {sys.argv[1]}\n")
print("| kind | self time |\n|---|---:|")
for name, pct in by_kind.items():
    print(f"| {name} | {pct:.1f} % |")
print("\nTop functions by self time:\n\n| self time | function |\n|---:|---|")
for pct, sym in rows[:12]:
    print(f"| {pct:.2f} % | `{sym[:110]}` |")

annotated = []
for line in open(sys.argv[2]):
    m = re.match(r"\s+([0-9.]+) (\S+):(\d+)$", line)
    if m:
        annotated.append((float(m.group(1)), m.group(2), int(m.group(3))))
if annotated:
    conv_lines = open(sys.argv[3]).read().splitlines() if len(sys.argv) > 3 and sys.argv[3] else []
    conv_share = next((p for p, s in rows if s == "burn_flex::ops::conv::conv3d_f32"), 0.0)
    print(f"\nInside `conv3d_f32` ({conv_share:.1f} % of all samples), by source line (share of the function's own")
    print("samples, from `perf annotate -l`; `cmp.rs`/`range.rs`/`index.rs` are the loops' own counters and bounds")
    print("checks, inlined from the standard library):\n\n| share | line | source |\n|---:|---|---|")
    for pct, file, no in sorted(annotated, reverse=True):
        if pct < 1.0:
            continue
        text = conv_lines[no - 1].strip() if file == "conv.rs" and 0 < no <= len(conv_lines) else ""
        print(f"| {pct:.1f} % | {file}:{no} | `{text}` |" if text else f"| {pct:.1f} % | {file}:{no} | |")
