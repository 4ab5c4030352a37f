/*
 * REDCap-style branching logic / calculated fields for the browser.
 *
 * A line-for-line twin of the Python package registry/logic (lexer.py, parser.py, numeric.py,
 * functions.py, evaluator.py): same grammar, same error messages and positions, same results.
 * Plain ES2019, no dependencies, never uses eval or Function.
 *
 *   RegistryLogic.parse(expression)                      -> AST (throws LogicSyntaxError)
 *   RegistryLogic.evaluate(exprOrAst, values, options)   -> boolean | number | string ('' = blank)
 *   RegistryLogic.fieldReferences(exprOrAst)             -> sorted array of base field names
 *   RegistryLogic.isTrue / calculate / formatCalc        -> as in Python
 *
 * values: {field: "stored string", checkbox: ["1", "3"]}
 * options: {missingCodes: ["UNK"], today: "YYYY-MM-DD" | Date, now: "YYYY-MM-DD HH:MM:SS" | Date}
 */
(function (root, factory) {
  'use strict';
  var api = factory();
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
  }
  if (typeof window !== 'undefined') {
    window.RegistryLogic = api;
  }
})(this, function () {
  'use strict';

  /* ------------------------------------------------------------------ errors & lexer */

  function LogicSyntaxError(message, position) {
    var error = new Error(message + ' at position ' + position);
    Object.setPrototypeOf(error, LogicSyntaxError.prototype);
    error.name = 'LogicSyntaxError';
    error.logicMessage = message;
    error.position = position;
    return error;
  }
  LogicSyntaxError.prototype = Object.create(Error.prototype);
  LogicSyntaxError.prototype.constructor = LogicSyntaxError;

  var DIGITS = '0123456789';
  var IDENT_START = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_';
  var IDENT_CHARS = IDENT_START + DIGITS;
  var CODE_CHARS = IDENT_CHARS + '.-';
  var TWO_CHAR_OPS = ['<>', '<=', '>=', '!=', '==', '&&', '||'];
  var ONE_CHAR_OPS = '=<>!+-*/^(),';
  var SPACE = ' \t\r\n';

  function isIn(ch, chars) {
    return ch !== undefined && ch !== '' && chars.indexOf(ch) >= 0;
  }

  function token(kind, value, pos, code) {
    return { kind: kind, value: value, pos: pos, code: code === undefined ? null : code };
  }

  function tokenize(text) {
    var tokens = [];
    var i = 0;
    var n = text.length;
    while (i < n) {
      var ch = text[i];
      var start = i;
      if (isIn(ch, SPACE)) {
        i += 1;
      } else if (isIn(ch, DIGITS) || (ch === '.' && i + 1 < n && isIn(text[i + 1], DIGITS))) {
        while (i < n && isIn(text[i], DIGITS)) i += 1;
        if (i < n && text[i] === '.') {
          i += 1;
          while (i < n && isIn(text[i], DIGITS)) i += 1;
        }
        tokens.push(token('num', text.slice(start, i), start));
      } else if (ch === "'" || ch === '"') {
        var end = text.indexOf(ch, i + 1);
        if (end < 0) throw LogicSyntaxError('unterminated string', start);
        tokens.push(token('str', text.slice(i + 1, end), start));
        i = end + 1;
      } else if (ch === '[') {
        i = readField(text, i, tokens);
      } else if (isIn(ch, IDENT_START)) {
        while (i < n && isIn(text[i], IDENT_CHARS)) i += 1;
        tokens.push(token('ident', text.slice(start, i).toLowerCase(), start));
      } else if (TWO_CHAR_OPS.indexOf(text.slice(i, i + 2)) >= 0) {
        tokens.push(token('op', text.slice(i, i + 2), start));
        i += 2;
      } else if (isIn(ch, ONE_CHAR_OPS)) {
        tokens.push(token('op', ch, start));
        i += 1;
      } else {
        throw LogicSyntaxError("unexpected character '" + ch + "'", start);
      }
    }
    tokens.push(token('eof', '', n));
    return tokens;
  }

  function readField(text, start, tokens) {
    var n = text.length;
    var j = start + 1;
    if (j < n && isIn(text[j], IDENT_START)) {
      while (j < n && isIn(text[j], IDENT_CHARS)) j += 1;
    }
    var name = text.slice(start + 1, j);
    if (!name) throw LogicSyntaxError('invalid field name', start + 1);
    var code = null;
    if (j < n && text[j] === '(') {
      var k = j + 1;
      while (k < n && isIn(text[k], CODE_CHARS)) k += 1;
      if (k === j + 1 || k >= n || text[k] !== ')') {
        throw LogicSyntaxError('invalid checkbox code', k);
      }
      code = text.slice(j + 1, k);
      j = k + 1;
    }
    if (j >= n || text[j] !== ']') throw LogicSyntaxError("expected ']'", j);
    tokens.push(token('field', name, start, code));
    return j + 1;
  }

  /* ------------------------------------------------------------------ parser */

  var FUNCTIONS = {
    if: [3, 3],
    datediff: [3, 5],
    sum: [1, null],
    min: [1, null],
    max: [1, null],
    mean: [1, null],
    round: [1, 2],
    rounddown: [1, 2],
    roundup: [1, 2],
    abs: [1, 1],
    sqrt: [1, 1],
    isblankormissingcode: [1, 1],
    isnumber: [1, 1],
    contains: [2, 2],
    not_contain: [2, 2],
    starts_with: [2, 2],
    ends_with: [2, 2]
  };
  var DATEDIFF_UNITS = ['y', 'M', 'd', 'h', 'm', 's'];
  var COMPARISONS = { '=': '=', '==': '=', '<>': '<>', '!=': '<>', '<': '<', '>': '>' };
  COMPARISONS['<='] = '<=';
  COMPARISONS['>='] = '>=';
  var MAX_NESTING = 50;
  var MAX_TREE_DEPTH = 200;

  function has(object, key) {
    return Object.prototype.hasOwnProperty.call(object, key);
  }

  function describe(tok) {
    if (tok.kind === 'eof') return 'end of expression';
    if (tok.kind === 'str') return 'string';
    if (tok.kind === 'field') return 'field [' + tok.value + ']';
    if (tok.kind === 'num') return 'number ' + tok.value;
    return "'" + tok.value + "'";
  }

  function Parser(text) {
    this.tokens = tokenize(text);
    this.index = 0;
    this.nesting = 0;
  }

  Parser.prototype.token = function () {
    return this.tokens[this.index];
  };
  Parser.prototype.advance = function () {
    var tok = this.tokens[this.index];
    this.index += 1;
    return tok;
  };
  Parser.prototype.at = function (kind) {
    var tok = this.tokens[this.index];
    if (tok.kind !== kind) return false;
    if (arguments.length === 1) return true;
    for (var i = 1; i < arguments.length; i++) {
      if (tok.value === arguments[i]) return true;
    }
    return false;
  };
  Parser.prototype.fail = function (tok) {
    tok = tok || this.token();
    return LogicSyntaxError('unexpected ' + describe(tok), tok.pos);
  };
  Parser.prototype.enter = function (pos) {
    this.nesting += 1;
    if (this.nesting > MAX_NESTING) throw LogicSyntaxError('expression is nested too deeply', pos);
  };
  Parser.prototype.parse = function () {
    if (this.at('eof')) throw LogicSyntaxError('empty expression', 0);
    var node = this.expression();
    if (!this.at('eof')) throw this.fail();
    return node;
  };
  Parser.prototype.expression = function () {
    this.enter(this.token().pos);
    var node = this.orExpr();
    this.nesting -= 1;
    return node;
  };
  Parser.prototype.orExpr = function () {
    var node = this.andExpr();
    while (this.at('ident', 'or') || this.at('op', '||')) {
      var pos = this.advance().pos;
      node = { type: 'binary', op: 'or', left: node, right: this.andExpr(), pos: pos };
    }
    return node;
  };
  Parser.prototype.andExpr = function () {
    var node = this.notExpr();
    while (this.at('ident', 'and') || this.at('op', '&&')) {
      var pos = this.advance().pos;
      node = { type: 'binary', op: 'and', left: node, right: this.notExpr(), pos: pos };
    }
    return node;
  };
  Parser.prototype.notExpr = function () {
    if (this.at('ident', 'not') || this.at('op', '!')) {
      var pos = this.advance().pos;
      this.enter(pos);
      var node = { type: 'unary', op: 'not', operand: this.notExpr(), pos: pos };
      this.nesting -= 1;
      return node;
    }
    return this.comparison();
  };
  Parser.prototype.comparison = function () {
    var node = this.additive();
    if (this.at('op') && has(COMPARISONS, this.token().value)) {
      var tok = this.advance();
      var right = this.additive();
      node = { type: 'binary', op: COMPARISONS[tok.value], left: node, right: right, pos: tok.pos };
      if (this.at('op') && has(COMPARISONS, this.token().value)) {
        throw LogicSyntaxError('comparisons cannot be chained', this.token().pos);
      }
    }
    return node;
  };
  Parser.prototype.additive = function () {
    var node = this.multiplicative();
    while (this.at('op', '+', '-')) {
      var tok = this.advance();
      var right = this.multiplicative();
      node = { type: 'binary', op: tok.value, left: node, right: right, pos: tok.pos };
    }
    return node;
  };
  Parser.prototype.multiplicative = function () {
    var node = this.unary();
    while (this.at('op', '*', '/')) {
      var tok = this.advance();
      node = { type: 'binary', op: tok.value, left: node, right: this.unary(), pos: tok.pos };
    }
    return node;
  };
  Parser.prototype.unary = function () {
    if (this.at('op', '-', '+')) {
      var tok = this.advance();
      this.enter(tok.pos);
      var op = tok.value === '-' ? 'neg' : 'pos';
      var node = { type: 'unary', op: op, operand: this.unary(), pos: tok.pos };
      this.nesting -= 1;
      return node;
    }
    return this.power();
  };
  Parser.prototype.power = function () {
    var node = this.primary();
    if (this.at('op', '^')) {
      var pos = this.advance().pos;
      this.enter(pos);
      node = { type: 'binary', op: '^', left: node, right: this.unary(), pos: pos };
      this.nesting -= 1;
    }
    return node;
  };
  Parser.prototype.primary = function () {
    var tok = this.advance();
    if (tok.kind === 'num') return { type: 'num', value: Number(tok.value), pos: tok.pos };
    if (tok.kind === 'str') return { type: 'str', value: tok.value, pos: tok.pos };
    if (tok.kind === 'field') {
      return { type: 'field', name: tok.value, code: tok.code, pos: tok.pos };
    }
    if (tok.kind === 'op' && tok.value === '(') {
      var node = this.expression();
      this.expectClose(tok);
      return node;
    }
    if (tok.kind === 'ident') {
      if (this.at('op', '(')) return this.call(tok);
      if (tok.value === 'today' || tok.value === 'now') {
        return { type: 'keyword', name: tok.value, pos: tok.pos };
      }
      if (tok.value === 'true' || tok.value === 'false') {
        return { type: 'bool', value: tok.value === 'true', pos: tok.pos };
      }
      if (has(FUNCTIONS, tok.value)) {
        throw LogicSyntaxError("expected '(' after " + tok.value, this.token().pos);
      }
      if (['and', 'or', 'not'].indexOf(tok.value) < 0) {
        throw LogicSyntaxError("unknown identifier '" + tok.value + "'", tok.pos);
      }
    }
    throw this.fail(tok);
  };
  Parser.prototype.expectClose = function (opening) {
    if (this.at('op', ')')) {
      this.advance();
      return;
    }
    if (this.at('eof')) throw LogicSyntaxError("missing ')' for '(' opened", opening.pos);
    throw this.fail();
  };
  Parser.prototype.call = function (name) {
    if (!has(FUNCTIONS, name.value)) {
      throw LogicSyntaxError("unknown function '" + name.value + "'", name.pos);
    }
    var opening = this.advance();
    var args = [];
    if (!this.at('op', ')')) {
      args.push(this.expression());
      while (this.at('op', ',')) {
        this.advance();
        args.push(this.expression());
      }
    }
    this.expectClose(opening);
    var low = FUNCTIONS[name.value][0];
    var high = FUNCTIONS[name.value][1];
    if (args.length < low || (high !== null && args.length > high)) {
      var expected;
      if (high === null) expected = low + ' or more';
      else expected = low === high ? String(low) : low + ' to ' + high;
      throw LogicSyntaxError(
        name.value + '() takes ' + expected + ' argument(s), got ' + args.length, name.pos);
    }
    if (name.value === 'datediff' && args[2].type === 'str') {
      if (DATEDIFF_UNITS.indexOf(args[2].value) < 0) {
        throw LogicSyntaxError("invalid datediff unit '" + args[2].value + "'", args[2].pos);
      }
    }
    return { type: 'call', name: name.value, args: args, pos: name.pos };
  };

  function children(node) {
    if (node.type === 'unary') return [node.operand];
    if (node.type === 'binary') return [node.left, node.right];
    if (node.type === 'call') return node.args;
    return [];
  }

  function checkDepth(root) {
    var stack = [[root, 1]];
    while (stack.length) {
      var item = stack.pop();
      if (item[1] > MAX_TREE_DEPTH) {
        throw LogicSyntaxError('expression is nested too deeply', item[0].pos);
      }
      var kids = children(item[0]);
      for (var i = 0; i < kids.length; i++) stack.push([kids[i], item[1] + 1]);
    }
  }

  var cache = new Map();

  function parse(expression) {
    if (cache.has(expression)) return cache.get(expression);
    var node = new Parser(String(expression)).parse();
    checkDepth(node);
    if (cache.size >= 4096) cache.clear();
    cache.set(expression, node);
    return node;
  }

  /* ------------------------------------------------------------------ numbers (numeric.py) */

  var NUMBER_RE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;
  var CALC_DECIMALS = 10;
  var MAX_ROUND_PLACES = 400;

  function strip(text) {
    return text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  }

  function isNumberText(text) {
    return NUMBER_RE.test(strip(text));
  }

  function asNumber(value, missing) {
    var number;
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (typeof value === 'number') {
      number = value;
    } else {
      var text = strip(value);
      if ((missing && missing.indexOf(text) >= 0) || !NUMBER_RE.test(text)) return null;
      number = Number(text);
    }
    return isFinite(number) ? number : null;
  }

  function asText(value) {
    if (typeof value === 'boolean') return value ? '1' : '0';
    if (typeof value === 'number') return formatCalc(value);
    return strip(value);
  }

  function isBlank(value, missing) {
    if (typeof value === 'boolean' || typeof value === 'number') return false;
    var text = strip(value);
    return text === '' || (!!missing && missing.indexOf(text) >= 0);
  }

  function truthy(value) {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'number') return value !== 0;
    var number = asNumber(value);
    if (number !== null) return number !== 0;
    return strip(value) !== '';
  }

  function finiteOrBlank(number) {
    if (number === null || !isFinite(number)) return '';
    return number;
  }

  function partition(text, sep) {
    var at = text.indexOf(sep);
    return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
  }

  function stripZerosLeft(text) {
    return text.replace(/^0+/, '');
  }

  function shortestDigits(number) {
    var parts = partition(String(Math.abs(number)), 'e');
    var mantissa = partition(parts[0], '.');
    var digits = stripZerosLeft(mantissa[0] + mantissa[1]) || '0';
    var exponent = (parts[1] ? parseInt(parts[1], 10) : 0) - mantissa[1].length;
    return [digits, exponent];
  }

  function addOne(digits) {
    var out = digits.split('');
    var i = out.length - 1;
    while (i >= 0 && out[i] === '9') {
      out[i] = '0';
      i -= 1;
    }
    if (i < 0) return '1' + out.join('');
    out[i] = String.fromCharCode(out[i].charCodeAt(0) + 1);
    return out.join('');
  }

  function roundDigits(digits, exponent, places, mode) {
    var drop = -places - exponent;
    if (drop <= 0) return [digits, exponent];
    var kept;
    var dropped;
    if (drop > digits.length) {
      kept = '0';
      dropped = '0'.repeat(drop - digits.length) + digits;
    } else {
      kept = digits.slice(0, digits.length - drop) || '0';
      dropped = digits.slice(digits.length - drop);
    }
    var increment;
    if (mode === 'half_up') increment = dropped[0] >= '5';
    else if (mode === 'up') increment = /[^0]/.test(dropped);
    else increment = false;
    if (increment) kept = stripZerosLeft(addOne(kept)) || '0';
    return [kept, -places];
  }

  function plainDecimal(digits, exponent, negative) {
    digits = stripZerosLeft(digits);
    if (!digits) return '0';
    var trimmed = digits.replace(/0+$/, '');
    exponent += digits.length - trimmed.length;
    digits = trimmed;
    var text;
    if (exponent >= 0) {
      text = digits + '0'.repeat(exponent);
    } else if (digits.length <= -exponent) {
      text = '0.' + '0'.repeat(-exponent - digits.length) + digits;
    } else {
      var point = digits.length + exponent;
      text = digits.slice(0, point) + '.' + digits.slice(point);
    }
    return (negative ? '-' : '') + text;
  }

  function roundNumber(number, places, mode) {
    places = Math.max(-MAX_ROUND_PLACES, Math.min(MAX_ROUND_PLACES, places));
    var sd = shortestDigits(number);
    var rounded = roundDigits(sd[0], sd[1], places, mode || 'half_up');
    return Number(plainDecimal(rounded[0], rounded[1], number < 0));
  }

  function formatCalc(value) {
    if (value === null || value === undefined) return '';
    if (typeof value === 'string' && strip(value) === '') return '';
    if (typeof value === 'boolean') return value ? '1' : '0';
    if (typeof value === 'number') {
      if (!isFinite(value)) return '';
      var sd = shortestDigits(value);
      var rounded = roundDigits(sd[0], sd[1], CALC_DECIMALS, 'half_up');
      return plainDecimal(rounded[0], rounded[1], value < 0);
    }
    if (typeof value === 'string') {
      var text = strip(value);
      return isNumberText(text) ? formatCalc(Number(text)) : text;
    }
    return String(value);
  }

  /* ------------------------------------------------------------------ power.py */
  // Math.pow differs from C libm in the last bit for ~10% of inputs, so powers are computed with
  // + - * / and sqrt only: exp(y * ln x) in double-double precision, exactly as in power.py.

  var SMALL_EXPONENT = 64;
  var SPLITTER = 134217729.0;
  var LN2 = 0.6931471805599453;
  var LN2_HI = 6.93147180369123816490e-01;
  var LN2_LO = 1.90821492927058770002e-10;
  var SQRT2 = 1.4142135623730951;
  var TWO_64 = 18446744073709551616.0;
  var LOG_TERMS = 12;
  var EXP_TERMS = 20;

  function integerPower(base, exponent) {
    var result = 1;
    var remaining = Math.abs(exponent);
    while (remaining > 0) {
      if (remaining % 2 === 1) result *= base;
      remaining = Math.floor(remaining / 2);
      if (remaining > 0) base *= base;
    }
    if (exponent < 0) return result === 0 ? Infinity : 1 / result;
    return result;
  }

  function split(a) {
    var t = SPLITTER * a;
    var hi = t - (t - a);
    return [hi, a - hi];
  }

  function twoSum(a, b) {
    var s = a + b;
    var bb = s - a;
    return [s, (a - (s - bb)) + (b - bb)];
  }

  function twoProd(a, b) {
    var p = a * b;
    var x = split(a);
    var y = split(b);
    return [p, ((x[0] * y[0] - p) + x[0] * y[1] + x[1] * y[0]) + x[1] * y[1]];
  }

  function logDD(x) {
    var m = x;
    var e = 0;
    while (m >= TWO_64) {
      m /= TWO_64;
      e += 64;
    }
    while (m >= 2.0) {
      m /= 2.0;
      e += 1;
    }
    while (m < 1.0 / TWO_64) {
      m *= TWO_64;
      e -= 64;
    }
    while (m < 1.0) {
      m *= 2.0;
      e -= 1;
    }
    if (m > SQRT2) {
      m /= 2.0;
      e += 1;
    }
    var f = m - 1.0;
    var d = twoSum(2.0, f);
    var sHi = f / d[0];
    var p = twoProd(sHi, d[0]);
    var sLo = (((f - p[0]) - p[1]) - sHi * d[1]) / d[0];
    var z = sHi * sHi;
    var series = 0.0;
    for (var k = LOG_TERMS; k > 0; k--) series = z * (2.0 / (2 * k + 1) + series);
    var log = twoSum(2.0 * sHi, 2.0 * sLo + sHi * series);
    var sum = twoSum(e * LN2_HI, log[0]);
    return twoSum(sum[0], sum[1] + log[1] + e * LN2_LO);
  }

  function expDD(hi, lo) {
    var k = Math.floor(hi / LN2 + 0.5);
    var r = (hi - k * LN2_HI) - k * LN2_LO + lo;
    var result = 1.0;
    for (var n = EXP_TERMS; n > 0; n--) result = 1.0 + result * r / n;
    var half = Math.floor(k / 2);
    return result * integerPower(2.0, half) * integerPower(2.0, k - half);
  }

  function generalPower(base, exponent) {
    var log = logDD(base);
    var estimate = exponent * log[0];
    if (estimate > 710.0) return Infinity;
    if (estimate < -746.0) return 0.0;
    var product = twoProd(exponent, log[0]);
    var t = twoSum(product[0], product[1] + exponent * log[1]);
    return expDD(t[0], t[1]);
  }

  function power(base, exponent) {
    var integral = exponent === Math.floor(exponent);
    var small = Math.abs(exponent) <= SMALL_EXPONENT;
    if (integral && small) return finiteOrBlank(integerPower(base, exponent));
    if (small && exponent * 2 === Math.floor(exponent * 2)) {
      if (base < 0) return '';
      return finiteOrBlank(integerPower(Math.sqrt(base), exponent * 2));
    }
    if (base === 0) return exponent > 0 ? 0.0 : '';
    if (base === 1) return 1.0;
    if (base < 0) {
      if (!integral) return '';
      var magnitude = generalPower(-base, exponent);
      return finiteOrBlank(exponent % 2 !== 0 ? -magnitude : magnitude);
    }
    return finiteOrBlank(generalPower(base, exponent));
  }

  /* ------------------------------------------------------------------ functions.py */

  var TIME = '(?:[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?';
  var YMD_RE = new RegExp('^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})' + TIME + '$');
  var XXY_RE = new RegExp('^([0-9]{1,2})[-/]([0-9]{1,2})[-/]([0-9]{4})' + TIME + '$');
  var DATE_FORMATS = ['ymd', 'mdy', 'dmy'];
  var SECONDS_PER_UNIT = { s: 1, m: 60, h: 3600, d: 86400 };
  var DAYS_PER_UNIT = { M: 30.44, y: 365.2425 };

  function daysFromCivil(year, month, day) {
    year -= month <= 2 ? 1 : 0;
    var era = Math.floor(year / 400);
    var yearOfEra = year - era * 400;
    var dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
    var dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) +
      dayOfYear;
    return era * 146097 + dayOfEra - 719468;
  }

  function daysInMonth(year, month) {
    if (month === 2) {
      var leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
      return leap ? 29 : 28;
    }
    return [4, 6, 9, 11].indexOf(month) >= 0 ? 30 : 31;
  }

  function timestamp(value, dateFormat, ctx) {
    var text = asText(value);
    if (text.toLowerCase() === 'today') text = ctx.today;
    else if (text.toLowerCase() === 'now') text = ctx.now;
    if (isBlank(text, ctx.missing)) return null;
    var year;
    var month;
    var day;
    var match = YMD_RE.exec(text);
    if (match) {
      year = parseInt(match[1], 10);
      month = parseInt(match[2], 10);
      day = parseInt(match[3], 10);
    } else {
      match = dateFormat === 'mdy' || dateFormat === 'dmy' ? XXY_RE.exec(text) : null;
      if (match === null) return null;
      var first = parseInt(match[1], 10);
      var second = parseInt(match[2], 10);
      year = parseInt(match[3], 10);
      month = dateFormat === 'mdy' ? first : second;
      day = dateFormat === 'mdy' ? second : first;
    }
    var hour = match[4] ? parseInt(match[4], 10) : 0;
    var minute = match[5] ? parseInt(match[5], 10) : 0;
    var sec = match[6] ? parseInt(match[6], 10) : 0;
    if (year < 1 || !(month >= 1 && month <= 12)) return null;
    if (!(day >= 1 && day <= daysInMonth(year, month))) return null;
    if (hour > 23 || minute > 59 || sec > 59) return null;
    return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + sec;
  }

  function flag(value) {
    if (typeof value === 'string') {
      var text = asText(value).toLowerCase();
      if (text === 'true' || text === 'false') return text === 'true';
    }
    var number = asNumber(value);
    return number !== null && number !== 0;
  }

  function datediff(args, ctx) {
    var dateFormat = 'ymd';
    var signed = false;
    if (args.length === 4) {
      if (DATE_FORMATS.indexOf(asText(args[3]).toLowerCase()) >= 0) {
        dateFormat = asText(args[3]).toLowerCase();
      } else {
        signed = flag(args[3]);
      }
    } else if (args.length === 5) {
      dateFormat = asText(args[3]).toLowerCase();
      signed = flag(args[4]);
    }
    var start = timestamp(args[0], dateFormat, ctx);
    var end = timestamp(args[1], dateFormat, ctx);
    var unit = asText(args[2]);
    if (start === null || end === null) return '';
    var seconds = end - start;
    var result;
    if (has(SECONDS_PER_UNIT, unit)) result = seconds / SECONDS_PER_UNIT[unit];
    else if (has(DAYS_PER_UNIT, unit)) result = seconds / 86400 / DAYS_PER_UNIT[unit];
    else return '';
    return signed ? result : Math.abs(result);
  }

  function numbers(args, ctx) {
    var out = [];
    for (var i = 0; i < args.length; i++) {
      var number = asNumber(args[i], ctx.missing);
      if (number !== null) out.push(number);
    }
    return out;
  }

  function sum(args, ctx) {
    var nums = numbers(args, ctx);
    if (!nums.length) return '';
    var total = 0;
    for (var i = 0; i < nums.length; i++) total += nums[i];
    return finiteOrBlank(total);
  }

  function mean(args, ctx) {
    var total = sum(args, ctx);
    return total === '' ? '' : finiteOrBlank(total / numbers(args, ctx).length);
  }

  function extreme(largest) {
    return function (args, ctx) {
      var best = null;
      var nums = numbers(args, ctx);
      for (var i = 0; i < nums.length; i++) {
        if (best === null || (largest ? nums[i] > best : nums[i] < best)) best = nums[i];
      }
      return best === null ? '' : best;
    };
  }

  function rounder(mode) {
    return function (args, ctx) {
      var number = asNumber(args[0], ctx.missing);
      var places = args.length > 1 ? asNumber(args[1], ctx.missing) : 0;
      if (number === null || places === null) return '';
      return finiteOrBlank(roundNumber(number, Math.trunc(places), mode));
    };
  }

  function unaryMath(fn) {
    return function (args, ctx) {
      var number = asNumber(args[0], ctx.missing);
      return number === null ? '' : finiteOrBlank(fn(number));
    };
  }

  function textTest(test) {
    return function (args) {
      return test(asText(args[0]).toLowerCase(), asText(args[1]).toLowerCase());
    };
  }

  var BUILTINS = {
    datediff: datediff,
    sum: sum,
    mean: mean,
    min: extreme(false),
    max: extreme(true),
    round: rounder('half_up'),
    rounddown: rounder('down'),
    roundup: rounder('up'),
    abs: unaryMath(Math.abs),
    sqrt: unaryMath(function (x) { return x < 0 ? NaN : Math.sqrt(x); }),
    isblankormissingcode: function (args, ctx) { return isBlank(args[0], ctx.missing); },
    isnumber: function (args) {
      if (typeof args[0] === 'boolean') return false;
      return typeof args[0] === 'number' || isNumberText(args[0]);
    },
    contains: textTest(function (a, b) { return a.indexOf(b) >= 0; }),
    not_contain: textTest(function (a, b) { return a.indexOf(b) < 0; }),
    starts_with: textTest(function (a, b) { return a.slice(0, b.length) === b; }),
    ends_with: textTest(function (a, b) { return b === '' || a.slice(-b.length) === b; })
  };

  /* ------------------------------------------------------------------ evaluator.py */

  function toNode(expressionOrNode) {
    return typeof expressionOrNode === 'string' ? parse(expressionOrNode) : expressionOrNode;
  }

  function fieldReferences(expressionOrNode) {
    var names = {};
    var stack = [toNode(expressionOrNode)];
    while (stack.length) {
      var node = stack.pop();
      if (node.type === 'field') names[node.name] = true;
      Array.prototype.push.apply(stack, children(node));
    }
    return Object.keys(names).sort();
  }

  function lookup(values, name) {
    if (!values) return undefined;
    if (typeof Map !== 'undefined' && values instanceof Map) return values.get(name);
    return has(values, name) ? values[name] : undefined;
  }

  function checkedCodes(raw) {
    if (raw === null || raw === undefined) return [];
    if (typeof raw === 'string') return raw.split(',').map(strip);
    if (Array.isArray(raw)) return raw.map(asText);
    if (typeof raw === 'object') {
      return Object.keys(raw).filter(function (code) { return truthy(raw[code]); }).map(asText);
    }
    return [];
  }

  function fieldValue(node, values) {
    var raw = lookup(values, node.name);
    if (node.code !== null) return checkedCodes(raw).indexOf(node.code) >= 0 ? '1' : '0';
    if (typeof raw === 'string') return raw;
    if (typeof raw === 'boolean' || typeof raw === 'number') return asText(raw);
    return '';
  }

  function compare(op, left, right) {
    var a = asNumber(left);
    var b = asNumber(right);
    if (a === null || b === null) {
      a = asText(left);
      b = asText(right);
      if (op !== '=' && op !== '<>' &&
        (a === '' || b === '' || isNumberText(a) || isNumberText(b))) {
        return false;
      }
    }
    switch (op) {
      case '=': return a === b;
      case '<>': return a !== b;
      case '<': return a < b;
      case '>': return a > b;
      case '<=': return a <= b;
      default: return a >= b;
    }
  }

  function arithmetic(op, left, right, ctx) {
    var a = asNumber(left, ctx.missing);
    var b = asNumber(right, ctx.missing);
    if (a === null || b === null) return '';
    if (op === '+') return finiteOrBlank(a + b);
    if (op === '-') return finiteOrBlank(a - b);
    if (op === '*') return finiteOrBlank(a * b);
    if (op === '/') return b === 0 ? '' : finiteOrBlank(a / b);
    return power(a, b);
  }

  function evalNode(node, ctx) {
    switch (node.type) {
      case 'field': return fieldValue(node, ctx.values);
      case 'num': case 'str': case 'bool': return node.value;
      case 'keyword': return node.name === 'today' ? ctx.today : ctx.now;
      case 'unary': {
        var value = evalNode(node.operand, ctx);
        if (node.op === 'not') return !truthy(value);
        var number = asNumber(value, ctx.missing);
        if (number === null) return '';
        return node.op === 'neg' ? -number : number;
      }
      case 'binary': {
        if (node.op === 'and') {
          return truthy(evalNode(node.left, ctx)) && truthy(evalNode(node.right, ctx));
        }
        if (node.op === 'or') {
          return truthy(evalNode(node.left, ctx)) || truthy(evalNode(node.right, ctx));
        }
        var left = evalNode(node.left, ctx);
        var right = evalNode(node.right, ctx);
        if ('+-*/^'.indexOf(node.op) >= 0) return arithmetic(node.op, left, right, ctx);
        return compare(node.op, left, right);
      }
      case 'call': {
        if (node.name === 'if') {
          return evalNode(truthy(evalNode(node.args[0], ctx)) ? node.args[1] : node.args[2], ctx);
        }
        var args = node.args.map(function (arg) { return evalNode(arg, ctx); });
        return BUILTINS[node.name](args, ctx);
      }
      default:
        throw new TypeError('not a logic node');
    }
  }

  function pad(number) {
    return (number < 10 ? '0' : '') + number;
  }

  function dateText(date) {
    var year = String(date.getFullYear());
    while (year.length < 4) year = '0' + year;
    return year + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate());
  }

  function dateTimeText(date) {
    return dateText(date) + ' ' + pad(date.getHours()) + ':' + pad(date.getMinutes()) + ':' +
      pad(date.getSeconds());
  }

  function evaluate(expressionOrNode, values, options) {
    options = options || {};
    var now = options.now instanceof Date ? dateTimeText(options.now) : options.now;
    var today = options.today instanceof Date ? dateText(options.today) : options.today;
    if (!now) {
      var clock = new Date();
      now = (today ? today : dateText(clock)) + ' ' + dateTimeText(clock).slice(11);
    }
    if (!today) today = now.slice(0, 10);
    var ctx = {
      values: values || {},
      missing: (options.missingCodes || []).map(asText),
      today: today,
      now: now
    };
    return evalNode(toNode(expressionOrNode), ctx);
  }

  function isTrue(expression, values, options) {
    if (typeof expression === 'string' && strip(expression) === '') return true;
    return truthy(evaluate(expression, values, options));
  }

  function calculate(expression, values, options) {
    if (typeof expression === 'string' && strip(expression) === '') return '';
    return formatCalc(evaluate(expression, values, options));
  }

  return {
    parse: parse,
    evaluate: evaluate,
    fieldReferences: fieldReferences,
    isTrue: isTrue,
    calculate: calculate,
    formatCalc: formatCalc,
    LogicSyntaxError: LogicSyntaxError
  };
});
