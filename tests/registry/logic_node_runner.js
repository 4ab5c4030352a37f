#!/usr/bin/env node
// Evaluate a batch of logic cases with registry/static/registry/logic.js.
// Usage: node logic_node_runner.js cases.json  ->  JSON array on stdout, one result per case:
//   {"ok": true, "calc": "<calculate()>", "truth": <isTrue()>, "value": <evaluate()>}
//   {"ok": false, "message": "<error message>", "position": <int>}
'use strict';
const fs = require('fs');
const path = require('path');

const logic = require(path.join(__dirname, '..', '..', 'registry', 'static', 'registry', 'logic.js'));
const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

const results = cases.map(function (item) {
  const options = { missingCodes: item.missing_codes || [], today: item.today, now: item.now };
  try {
    const blank = item.expr.trim() === '';
    return {
      ok: true,
      calc: logic.calculate(item.expr, item.values, options),
      truth: logic.isTrue(item.expr, item.values, options),
      value: blank ? null : logic.evaluate(item.expr, item.values, options)
    };
  } catch (error) {
    if (!(error instanceof logic.LogicSyntaxError)) throw error;
    return { ok: false, message: error.logicMessage, position: error.position };
  }
});
process.stdout.write(JSON.stringify(results));
