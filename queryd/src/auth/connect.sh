#!/usr/bin/env bash
# OpenTrace connect: creates or logs into your OpenTrace account, obtains a personal MCP
# token and writes it into ./.mcp.json (merged with any servers already there), then adds
# .mcp.json to ./.gitignore.
#
#   curl -s __PUBLIC_URL__/connect | bash
#   curl -s __PUBLIC_URL__/connect | OPENTRACE_EMAIL=me@example.com OPENTRACE_PASSWORD=... bash
#   curl -s __PUBLIC_URL__/connect | bash -s -- --email me@example.com --invite oti_...
#
# Environment: OPENTRACE_EMAIL, OPENTRACE_PASSWORD, OPENTRACE_INVITE, OPENTRACE_SERVER,
# OPENTRACE_JSON_TOOL (python3, jq or bash: how .mcp.json is merged; default: first found).
set -euo pipefail

SERVER=__SERVER_LITERAL__
SERVER="${OPENTRACE_SERVER:-$SERVER}"
INVITE=__INVITE_LITERAL__
INVITE="${OPENTRACE_INVITE:-$INVITE}"
EMAIL="${OPENTRACE_EMAIL:-}"
PASSWORD="${OPENTRACE_PASSWORD:-}"
JSON_TOOL="${OPENTRACE_JSON_TOOL:-}"
MCP_FILE=".mcp.json"

die() { printf 'opentrace: %s\n' "$*" >&2; exit 1; }
say() { printf 'opentrace: %s\n' "$*" >&2; }

while [ "$#" -gt 0 ]; do
  case "$1" in
    --email) [ "$#" -ge 2 ] || die "--email needs a value"; EMAIL="$2"; shift 2 ;;
    --password) [ "$#" -ge 2 ] || die "--password needs a value"; PASSWORD="$2"; shift 2 ;;
    --invite) [ "$#" -ge 2 ] || die "--invite needs a value"; INVITE="$2"; shift 2 ;;
    --server) [ "$#" -ge 2 ] || die "--server needs a value"; SERVER="$2"; shift 2 ;;
    -h|--help) printf '%s\n' "usage: bash connect.sh [--email E] [--password P] [--invite CODE] [--server URL]"; exit 0 ;;
    *) die "unknown option $1 (use --email, --password, --invite, --server)" ;;
  esac
done

command -v curl >/dev/null 2>&1 || die "curl is required"

have_tty() { { : </dev/tty; } 2>/dev/null; }

# ask PROMPT [secret] -> prints the answer read from the terminal (works when piped).
ask() {
  local reply=""
  have_tty || die "no terminal to ask on: set OPENTRACE_EMAIL and OPENTRACE_PASSWORD"
  if [ "${2:-}" = secret ]; then
    IFS= read -r -s -p "$1" reply </dev/tty || true
    printf '\n' >/dev/tty
  else
    IFS= read -r -p "$1" reply </dev/tty || true
  fi
  printf '%s' "$reply"
}

# json_string VALUE -> VALUE as a JSON string literal (pure bash).
json_string() {
  local s="$1" out="" c i code
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      '"') out+='\"' ;;
      \\) out+="\\\\" ;;
      $'\n') out+='\n' ;;
      $'\r') out+='\r' ;;
      $'\t') out+='\t' ;;
      *)
        printf -v code '%d' "'$c"
        if [ "$code" -ge 0 ] && [ "$code" -lt 32 ]; then
          printf -v c '\\u%04x' "$code"
        fi
        out+="$c"
        ;;
    esac
  done
  printf '"%s"' "$out"
}

[ -n "$EMAIL" ] || EMAIL="$(ask 'Email: ')"
[ -n "$EMAIL" ] || die "an email is required"
if [ -z "$PASSWORD" ]; then
  PASSWORD="$(ask 'Password (12+ characters): ' secret)"
fi
[ -n "$PASSWORD" ] || die "a password is required"

BODY="{\"email\":$(json_string "$EMAIL"),\"password\":$(json_string "$PASSWORD")"
if [ -n "$INVITE" ]; then
  BODY+=",\"invite\":$(json_string "$INVITE")"
fi
BODY+="}"

RESPONSE_FILE="$(mktemp)"
trap 'rm -f "$RESPONSE_FILE"' EXIT
STATUS="$(printf '%s' "$BODY" | curl -sS -o "$RESPONSE_FILE" -w '%{http_code}' \
  -H 'Content-Type: application/json' --data-binary @- "$SERVER/api/auth/connect")" \
  || die "could not reach $SERVER"
RESPONSE="$(<"$RESPONSE_FILE")"

if [ "$STATUS" != 200 ] && [ "$STATUS" != 201 ]; then
  if [[ "$RESPONSE" =~ \"error\":\"([^\"]*)\" ]]; then
    die "${BASH_REMATCH[1]} (HTTP $STATUS)"
  fi
  die "the server answered HTTP $STATUS"
fi
[[ "$RESPONSE" =~ \"token\":\"(otq_[0-9a-f]{64})\" ]] || die "unexpected answer from the server"
TOKEN="${BASH_REMATCH[1]}"
ROLE="member"
if [[ "$RESPONSE" =~ \"role\":\"([a-z]+)\" ]]; then ROLE="${BASH_REMATCH[1]}"; fi

URL="$SERVER/mcp"
AUTH="Bearer $TOKEN"

write_with_python() {
  OT_URL="$URL" OT_AUTH="$AUTH" OT_FILE="$MCP_FILE" python3 - <<'PY'
import json, os, sys
path = os.environ["OT_FILE"]
try:
    with open(path, encoding="utf-8") as f:
        text = f.read()
except FileNotFoundError:
    text = ""
try:
    doc = json.loads(text) if text.strip() else {}
except ValueError as e:
    sys.exit(f"opentrace: {path} is not valid JSON ({e}); fix or move it and run again")
if not isinstance(doc, dict) or not isinstance(doc.setdefault("mcpServers", {}), dict):
    sys.exit(f"opentrace: {path} does not have the shape {{\"mcpServers\": {{...}}}}")
doc["mcpServers"]["opentrace"] = {
    "type": "http",
    "url": os.environ["OT_URL"],
    "headers": {"Authorization": os.environ["OT_AUTH"]},
}
tmp = path + ".tmp"
fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w", encoding="utf-8") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(tmp, path)
PY
}

write_with_jq() {
  local src="$MCP_FILE"
  [ -s "$src" ] || src=/dev/null
  (
    umask 077
    jq -n --arg url "$URL" --arg auth "$AUTH" --slurpfile old "$src" '
      ($old[0] // {}) as $doc
      | if ($doc | type) != "object" or (($doc.mcpServers // {}) | type) != "object"
        then error("\(env.PWD)/.mcp.json does not have the shape {\"mcpServers\": {...}}")
        else $doc | .mcpServers = ((.mcpServers // {}) + {opentrace: {type: "http", url: $url, headers: {Authorization: $auth}}})
        end' >"$MCP_FILE.tmp"
  ) || { rm -f "$MCP_FILE.tmp"; die "could not merge $MCP_FILE with jq (is it valid JSON?)"; }
  mv -f "$MCP_FILE.tmp" "$MCP_FILE"
}

# Pure bash: writes a new file, or inserts our entry into an existing file whose first key
# is "mcpServers" and which has no "opentrace" entry yet. Anything else is left untouched
# and the entry is written to .mcp.json.opentrace for the user to merge.
write_with_bash() {
  local entry existing head rest
  entry="\"opentrace\": {\"type\": \"http\", \"url\": $(json_string "$URL"), \"headers\": {\"Authorization\": $(json_string "$AUTH")}}"
  existing=""
  [ -f "$MCP_FILE" ] && existing="$(<"$MCP_FILE")"
  if [[ -z "${existing//[[:space:]]/}" ]]; then
    (umask 077; printf '{\n  "mcpServers": {\n    %s\n  }\n}\n' "$entry" >"$MCP_FILE.tmp")
  elif [[ "$existing" != *'"opentrace"'* && "$existing" =~ ^[[:space:]]*\{[[:space:]]*\"mcpServers\"[[:space:]]*:[[:space:]]*\{ ]]; then
    head="${BASH_REMATCH[0]}"
    rest="${existing#"$head"}"
    if [[ "$rest" =~ ^[[:space:]]*\} ]]; then
      (umask 077; printf '%s\n    %s\n%s\n' "$head" "$entry" "$rest" >"$MCP_FILE.tmp")
    else
      (umask 077; printf '%s\n    %s,%s\n' "$head" "$entry" "$rest" >"$MCP_FILE.tmp")
    fi
  else
    (umask 077; printf '{\n  "mcpServers": {\n    %s\n  }\n}\n' "$entry" >"$MCP_FILE.opentrace")
    die "could not merge into the existing $MCP_FILE without python3 or jq; the entry is in $MCP_FILE.opentrace, merge it by hand"
  fi
  mv -f "$MCP_FILE.tmp" "$MCP_FILE"
}

if [ -z "$JSON_TOOL" ]; then
  if command -v python3 >/dev/null 2>&1; then JSON_TOOL=python3
  elif command -v jq >/dev/null 2>&1; then JSON_TOOL=jq
  else JSON_TOOL=bash
  fi
fi
case "$JSON_TOOL" in
  python3) write_with_python || die "could not write $MCP_FILE" ;;
  jq) write_with_jq ;;
  bash) write_with_bash ;;
  *) die "OPENTRACE_JSON_TOOL must be python3, jq or bash" ;;
esac
chmod 600 "$MCP_FILE" 2>/dev/null || true

# Add .mcp.json to .gitignore once.
ignored=no
if [ -f .gitignore ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%$'\r'}"
    if [ "$line" = ".mcp.json" ] || [ "$line" = "/.mcp.json" ]; then ignored=yes; break; fi
  done <.gitignore
fi
if [ "$ignored" = no ]; then
  if [ -s .gitignore ] && [ -n "$(tail -c 1 .gitignore)" ]; then printf '\n' >>.gitignore; fi
  printf '%s\n' ".mcp.json" >>.gitignore
fi

say "connected as $EMAIL ($ROLE); wrote $MCP_FILE (MCP server \"opentrace\" at $URL)"
say "the token in $MCP_FILE is personal: keep it out of version control"
