#!/usr/bin/env bash
# refused-by-every-tool.sh CORPUS TMP: every hostile file in CORPUS goes to
# every tool that reads models (quant-import, quant-run info,
# quant-export-gguf). Each must exit 1 (no crash, no signal) with an error
# naming the file. Prints one line per failure and a count.
corpus=$1 tmp=$2
refused=0 failed=0
check() { # NAME-TO-MENTION COMMAND...
  local name=$1; shift
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  if [[ $rc -eq 1 && $err == *"$name"* && $err == *error* ]]; then
    refused=$((refused + 1))
  else
    failed=$((failed + 1))
    echo "NOT REFUSED: rc=$rc: $*: ${err:0:300}"
  fi
}
tools() { # NAME MODEL [--tokenizer TOK]
  local name=$1; shift
  check "$name" quant-import "$@" -o "$tmp/out.mlir"
  check "$name" quant-run info -m "$@"
  check "$name" quant-export-gguf "$@" -o "$tmp/out.gguf"
}
for f in "$corpus"/*.gguf "$corpus"/*.safetensors "$corpus"/hf-*; do
  [[ $(basename "$f") == valid.gguf ]] && continue
  tools "$(basename "$f")" "$f"
done
for f in "$corpus"/*.bin; do
  case $(basename "$f") in
    model.bin|tok.bin) ;;
    tok-*) tools "$(basename "$f")" "$corpus/model.bin" --tokenizer "$f" ;;
    *) tools "$(basename "$f")" "$f" --tokenizer "$corpus/tok.bin" ;;
  esac
done
ls "$tmp"/out.* 2>/dev/null | sed 's/^/LEFT BEHIND: /'
echo "$refused refused, $failed not refused"
