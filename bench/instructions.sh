#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: repeatable (±2 %) where wall-clock figures
# are not (a shared or throttled machine). Compiles src/ and bench/ to a temp dir, starts the bench's fake
# Cinder, runs the proxy (or the bare Node proxy, `floor`) under callgrind with instrumentation off, sends
# WARM requests, then counts N more over 8 keep-alive connections. Not a target: a way to compare two
# versions of the code, one at a time (git stash / worktree), on any machine.
#
#   bench/instructions.sh [proxy|floor] [volumes|volumes/detail]      (N=1000 WARM=3000 by default)
set -euo pipefail
WHO=${1:-proxy}; PATHX=${2:-volumes}; N=${N:-1000}; WARM=${WARM:-3000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROJECT=e0b8c1a2d3f44f6b9a7c5d2e1f0a9b8c
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/stx-instr-XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$W/build" "$W/data" "$W/exports"; : > "$W/vol"
ln -s "$ROOT/node_modules" "$W/build/node_modules"; ln -s "$ROOT/package.json" "$W/build/package.json"
cat > "$W/tsconfig.json" <<J
{"extends":"$ROOT/tsconfig.json","compilerOptions":{"outDir":"$W/build","rootDir":"$ROOT","noEmit":false,"noEmitOnError":false,"incremental":false,"sourceMap":false,"declaration":false,"types":["node"],"typeRoots":["$ROOT/node_modules/@types"]},"include":["$ROOT/src","$ROOT/bench"]}
J
"$ROOT/node_modules/.bin/tsc" -p "$W/tsconfig.json" > "$W/tsc.log" || true
[ -f "$W/build/src/main.js" ] || { cat "$W/tsc.log" >&2; exit 1; }
export BENCH_PROJECT_ROOT=$ROOT
node "$W/build/bench/lib/upstream-child.js" '{"bigProject":"b1","bigCount":10,"volumes":{},"host":"h"}' > "$W/up.out" & pids+=($!)
for _ in $(seq 100); do grep -q LISTENING "$W/up.out" 2>/dev/null && break; sleep 0.1; done
UP=$(awk '/LISTENING/{print $2}' "$W/up.out")
VG=(valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$W/cg.out" node --max-semi-space-size=4)
if [ "$WHO" = floor ]; then
  "${VG[@]}" "$W/build/bench/lib/floor-proxy-child.js" "$UP" > "$W/child.out" 2> "$W/vg.err" & pids+=($!)
  for _ in $(seq 600); do grep -q LISTENING "$W/child.out" 2>/dev/null && break; sleep 0.2; done
  PORT=$(awk '/LISTENING/{print $2}' "$W/child.out")
else
  PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  printf 'listen: { host: 127.0.0.1, port: %s }\nupstream: { url: "http://127.0.0.1:%s" }\ndataDir: %s\nexportDir: %s\nbackends: [{ name: bench, type: file, volumePath: %s }]\nlog: { level: warn }\n' \
    "$PORT" "$UP" "$W/data" "$W/exports" "$W/vol" > "$W/proxy.yaml"
  "${VG[@]}" "$W/build/src/main.js" --config "$W/proxy.yaml" > "$W/child.out" 2> "$W/vg.err" & pids+=($!)
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
fi
CHILD=${pids[-1]}
client() { # N requests over 8 keep-alive connections, all 200
  node -e '
    const http = require("http"); const [url, n] = [process.argv[1], Number(process.argv[2])];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 }); let left = n, bad = 0;
    const one = () => new Promise((ok) => http.get(url, { agent, headers: { "X-Auth-Token": "bench", Accept: "application/json" } },
      (res) => { if (res.statusCode !== 200) bad++; res.resume(); res.on("end", ok); }).on("error", () => { bad++; ok(); }));
    Promise.all(Array.from({ length: 8 }, async () => { while (left-- > 0) await one(); })).then(() => { agent.destroy(); if (bad) { console.error(bad + " bad answers"); process.exit(1); } });
  ' "http://127.0.0.1:$PORT/v3/$PROJECT/$PATHX" "$1"
}
client "$WARM"
callgrind_control -i on "$CHILD" > /dev/null 2>&1
client "$N"
callgrind_control -i off "$CHILD" > /dev/null 2>&1
callgrind_control -d "$CHILD" > /dev/null 2>&1
for _ in $(seq 50); do ls "$W"/cg.out.* >/dev/null 2>&1 && break; sleep 0.2; done
IR=$(cat "$W"/cg.out* | awk '/^(summary|totals):/ { s += $2 } END { print s + 0 }')
echo "$WHO $PATHX: $((IR / N)) instructions per request ($N requests after $WARM)"
