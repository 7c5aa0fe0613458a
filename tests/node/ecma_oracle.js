// The tests' ECMA-262 oracle: one node process answers many questions, one JSON line each.
//
//   {"document": ...}             -> {"valid": bool}  ajv (draft 2020-12, strict, u flag) on tenants.schema.json
//   {"pattern": p, "text": s}     -> {"match": bool}  new RegExp(p, "u").test(s), as JSON Schema's pattern
//   {"cdktf": s}                  -> {"token": bool}  does cdktf 0.21 read a token in the string s
//
// Started by tests/ecma.py; ajv and cdktf come from node_modules (package-lock.json).
"use strict";
const path = require("path");
const readline = require("readline");
const Ajv2020 = require("ajv/dist/2020").default;
const encoding = require("cdktf/lib/tokens/private/encoding.js");

const schema = require(path.join(__dirname, "..", "..", "tenants.schema.json"));
// unicodeRegExp (default true) compiles every pattern with the u flag, as editors do.
const ajv = new Ajv2020({ strict: true, allErrors: false, unicodeRegExp: true });
ajv.addKeyword("x-rule");
ajv.addKeyword("x-rules");
const validate = ajv.compile(schema);

function cdktfSeesToken(text) {
  const { TokenString, extractTokenDouble } = encoding;
  if (TokenString.forString(text).test() || TokenString.forListToken(text).test() || TokenString.forMapToken(text).test()) {
    return true;
  }
  // What resolve() does with every string: each number-like match goes through parseFloat
  // and is a token when its bits carry the token marker.
  let token = false;
  TokenString.forNumbers(text).split((id) => {
    if (extractTokenDouble(parseFloat(id), false) !== undefined) token = true;
    return undefined;
  });
  return token;
}

function answer(request) {
  if ("document" in request) return { valid: validate(request.document) };
  if ("pattern" in request) return { match: new RegExp(request.pattern, "u").test(request.text) };
  if ("cdktf" in request) return { token: cdktfSeesToken(request.cdktf) };
  throw new Error(`unknown request: ${JSON.stringify(request)}`);
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  let reply;
  try {
    reply = answer(JSON.parse(line));
  } catch (error) {
    reply = { error: String(error && error.stack ? error.stack : error) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
