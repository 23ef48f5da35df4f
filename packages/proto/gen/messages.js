/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-mixed-operators, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars, default-case, jsdoc/require-param*/
import $protobuf from 'protobufjs/minimal.js';

const $Reader = $protobuf.Reader,
  $Writer = $protobuf.Writer,
  $util = $protobuf.util;
const $Object = $util.global.Object,
  $undefined = $util.global.undefined,
  $Error = $util.global.Error,
  $RangeError = $util.global.RangeError,
  $TypeError = $util.global.TypeError,
  $String = $util.global.String,
  $Number = $util.global.Number,
  $Array = $util.global.Array,
  $parseInt = $util.global.parseInt,
  $BigInt = $util.global.BigInt,
  $Boolean = $util.global.Boolean;

const $root = $protobuf.roots['default'] || ($protobuf.roots['default'] = {});

export const ballast = ($root.ballast = (() => {
  const ballast = {};

  ballast.dataplane = (function () {
    const dataplane = {};

    dataplane.StatusCode = (function () {
      const valuesById = $Object.create(null),
        values = $Object.create(valuesById);
      values[(valuesById[0] = 'OK')] = 0;
      values[(valuesById[1] = 'INVALID')] = 1;
      values[(valuesById[2] = 'NOT_FOUND')] = 2;
      values[(valuesById[3] = 'FENCED')] = 3;
      values[(valuesById[4] = 'CHECKSUM')] = 4;
      values[(valuesById[5] = 'IO')] = 5;
      values[(valuesById[6] = 'NO_SPACE')] = 6;
      values[(valuesById[7] = 'UNAUTHENTICATED')] = 7;
      values[(valuesById[8] = 'NO_SESSION')] = 8;
      values[(valuesById[9] = 'OVERLOADED')] = 9;
      values[(valuesById[10] = 'SHUTTING_DOWN')] = 10;
      return values;
    })();

    dataplane.Status = (function () {
      const Status = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      Status.prototype.code = 0;
      Status.prototype.message = '';

      Status.create = function (properties) {
        return new Status(properties);
      };

      Status.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.code != null && $Object.hasOwnProperty.call(m, 'code') && m.code !== 0)
          w.uint32(8).int32(m.code);
        if (m.message != null && $Object.hasOwnProperty.call(m, 'message') && m.message !== '')
          w.uint32(18).string(m.message);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      Status.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.Status();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.int32())) m.code = v;
              else delete m.code;
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.message = v;
              else delete m.message;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      Status.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.code != null && $Object.hasOwnProperty.call(m, 'code')) {
          if (typeof m.code !== 'number' || (m.code | 0) !== m.code)
            return 'code: enum value expected';
        }
        if (m.message != null && $Object.hasOwnProperty.call(m, 'message')) {
          if (!$util.isString(m.message)) return 'message: string expected';
        }
        return null;
      };

      Status.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.Status) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.dataplane.Status: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.Status();
        if (
          d.code !== 0 &&
          (typeof d.code !== 'string' || $root.ballast.dataplane.StatusCode[d.code] !== 0)
        ) {
          switch (d.code) {
            case 'OK':
            case 0:
              m.code = 0;
              break;
            case 'INVALID':
            case 1:
              m.code = 1;
              break;
            case 'NOT_FOUND':
            case 2:
              m.code = 2;
              break;
            case 'FENCED':
            case 3:
              m.code = 3;
              break;
            case 'CHECKSUM':
            case 4:
              m.code = 4;
              break;
            case 'IO':
            case 5:
              m.code = 5;
              break;
            case 'NO_SPACE':
            case 6:
              m.code = 6;
              break;
            case 'UNAUTHENTICATED':
            case 7:
              m.code = 7;
              break;
            case 'NO_SESSION':
            case 8:
              m.code = 8;
              break;
            case 'OVERLOADED':
            case 9:
              m.code = 9;
              break;
            case 'SHUTTING_DOWN':
            case 10:
              m.code = 10;
              break;
            default:
              if (typeof d.code === 'number' && (d.code | 0) === d.code) m.code = d.code;
          }
        }
        if (d.message != null) {
          if (typeof d.message !== 'string' || d.message.length) {
            m.message = $String(d.message);
          }
        }
        return m;
      };

      Status.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.code = o.enums === $String ? 'OK' : 0;
          d.message = '';
        }
        if (m.code != null && $Object.hasOwnProperty.call(m, 'code')) {
          d.code =
            o.enums === $String
              ? $root.ballast.dataplane.StatusCode[m.code] === $undefined
                ? m.code
                : $root.ballast.dataplane.StatusCode[m.code]
              : m.code;
        }
        if (m.message != null && $Object.hasOwnProperty.call(m, 'message')) {
          d.message = m.message;
        }
        return d;
      };

      Status.prototype.toJSON = function () {
        return Status.toObject(this, $protobuf.util.toJSONOptions);
      };

      Status.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.Status';
      };

      return Status;
    })();

    dataplane.ServerHello = (function () {
      const ServerHello = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      ServerHello.prototype.protocolVersion = 0;
      ServerHello.prototype.clusterId = '';
      ServerHello.prototype.nodeId = '';
      ServerHello.prototype.nonce = $util.newBuffer([]);

      ServerHello.create = function (properties) {
        return new ServerHello(properties);
      };

      ServerHello.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (
          m.protocolVersion != null &&
          $Object.hasOwnProperty.call(m, 'protocolVersion') &&
          m.protocolVersion !== 0
        )
          w.uint32(8).uint32(m.protocolVersion);
        if (
          m.clusterId != null &&
          $Object.hasOwnProperty.call(m, 'clusterId') &&
          m.clusterId !== ''
        )
          w.uint32(18).string(m.clusterId);
        if (m.nodeId != null && $Object.hasOwnProperty.call(m, 'nodeId') && m.nodeId !== '')
          w.uint32(26).string(m.nodeId);
        if (m.nonce != null && $Object.hasOwnProperty.call(m, 'nonce') && m.nonce.length)
          w.uint32(34).bytes(m.nonce);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      ServerHello.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.ServerHello();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.protocolVersion = v;
              else delete m.protocolVersion;
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.clusterId = v;
              else delete m.clusterId;
              continue;
            }
            case 3: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.nodeId = v;
              else delete m.nodeId;
              continue;
            }
            case 4: {
              if (u !== 2) break;
              if ((v = r.bytes()).length) m.nonce = v;
              else delete m.nonce;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      ServerHello.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.protocolVersion != null && $Object.hasOwnProperty.call(m, 'protocolVersion')) {
          if (!$util.isInteger(m.protocolVersion)) return 'protocolVersion: integer expected';
        }
        if (m.clusterId != null && $Object.hasOwnProperty.call(m, 'clusterId')) {
          if (!$util.isString(m.clusterId)) return 'clusterId: string expected';
        }
        if (m.nodeId != null && $Object.hasOwnProperty.call(m, 'nodeId')) {
          if (!$util.isString(m.nodeId)) return 'nodeId: string expected';
        }
        if (m.nonce != null && $Object.hasOwnProperty.call(m, 'nonce')) {
          if (!((m.nonce && typeof m.nonce.length === 'number') || $util.isString(m.nonce)))
            return 'nonce: buffer expected';
        }
        return null;
      };

      ServerHello.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.ServerHello) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.dataplane.ServerHello: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.ServerHello();
        if (d.protocolVersion != null) {
          if ($Number(d.protocolVersion) !== 0) {
            m.protocolVersion = d.protocolVersion >>> 0;
          }
        }
        if (d.clusterId != null) {
          if (typeof d.clusterId !== 'string' || d.clusterId.length) {
            m.clusterId = $String(d.clusterId);
          }
        }
        if (d.nodeId != null) {
          if (typeof d.nodeId !== 'string' || d.nodeId.length) {
            m.nodeId = $String(d.nodeId);
          }
        }
        if (d.nonce != null) {
          if (d.nonce.length) {
            if (typeof d.nonce === 'string')
              $util.base64.decode(
                d.nonce,
                (m.nonce = $util.newBuffer($util.base64.length(d.nonce))),
                0,
              );
            else if (d.nonce.length >= 0) m.nonce = d.nonce;
          }
        }
        return m;
      };

      ServerHello.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.protocolVersion = 0;
          d.clusterId = '';
          d.nodeId = '';
          if (o.bytes === $String) d.nonce = '';
          else {
            d.nonce = [];
            if (o.bytes !== $Array) d.nonce = $util.newBuffer(d.nonce);
          }
        }
        if (m.protocolVersion != null && $Object.hasOwnProperty.call(m, 'protocolVersion')) {
          d.protocolVersion = m.protocolVersion;
        }
        if (m.clusterId != null && $Object.hasOwnProperty.call(m, 'clusterId')) {
          d.clusterId = m.clusterId;
        }
        if (m.nodeId != null && $Object.hasOwnProperty.call(m, 'nodeId')) {
          d.nodeId = m.nodeId;
        }
        if (m.nonce != null && $Object.hasOwnProperty.call(m, 'nonce')) {
          d.nonce =
            o.bytes === $String
              ? $util.base64.encode(m.nonce, 0, m.nonce.length)
              : o.bytes === $Array
                ? $Array.prototype.slice.call(m.nonce)
                : m.nonce;
        }
        return d;
      };

      ServerHello.prototype.toJSON = function () {
        return ServerHello.toObject(this, $protobuf.util.toJSONOptions);
      };

      ServerHello.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.ServerHello';
      };

      return ServerHello;
    })();

    dataplane.ClientHello = (function () {
      const ClientHello = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      ClientHello.prototype.protocolVersion = 0;
      ClientHello.prototype.clusterId = '';
      ClientHello.prototype.clientId = '';
      ClientHello.prototype.mac = $util.newBuffer([]);

      ClientHello.create = function (properties) {
        return new ClientHello(properties);
      };

      ClientHello.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (
          m.protocolVersion != null &&
          $Object.hasOwnProperty.call(m, 'protocolVersion') &&
          m.protocolVersion !== 0
        )
          w.uint32(8).uint32(m.protocolVersion);
        if (
          m.clusterId != null &&
          $Object.hasOwnProperty.call(m, 'clusterId') &&
          m.clusterId !== ''
        )
          w.uint32(18).string(m.clusterId);
        if (m.clientId != null && $Object.hasOwnProperty.call(m, 'clientId') && m.clientId !== '')
          w.uint32(26).string(m.clientId);
        if (m.mac != null && $Object.hasOwnProperty.call(m, 'mac') && m.mac.length)
          w.uint32(34).bytes(m.mac);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      ClientHello.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.ClientHello();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.protocolVersion = v;
              else delete m.protocolVersion;
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.clusterId = v;
              else delete m.clusterId;
              continue;
            }
            case 3: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.clientId = v;
              else delete m.clientId;
              continue;
            }
            case 4: {
              if (u !== 2) break;
              if ((v = r.bytes()).length) m.mac = v;
              else delete m.mac;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      ClientHello.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.protocolVersion != null && $Object.hasOwnProperty.call(m, 'protocolVersion')) {
          if (!$util.isInteger(m.protocolVersion)) return 'protocolVersion: integer expected';
        }
        if (m.clusterId != null && $Object.hasOwnProperty.call(m, 'clusterId')) {
          if (!$util.isString(m.clusterId)) return 'clusterId: string expected';
        }
        if (m.clientId != null && $Object.hasOwnProperty.call(m, 'clientId')) {
          if (!$util.isString(m.clientId)) return 'clientId: string expected';
        }
        if (m.mac != null && $Object.hasOwnProperty.call(m, 'mac')) {
          if (!((m.mac && typeof m.mac.length === 'number') || $util.isString(m.mac)))
            return 'mac: buffer expected';
        }
        return null;
      };

      ClientHello.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.ClientHello) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.dataplane.ClientHello: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.ClientHello();
        if (d.protocolVersion != null) {
          if ($Number(d.protocolVersion) !== 0) {
            m.protocolVersion = d.protocolVersion >>> 0;
          }
        }
        if (d.clusterId != null) {
          if (typeof d.clusterId !== 'string' || d.clusterId.length) {
            m.clusterId = $String(d.clusterId);
          }
        }
        if (d.clientId != null) {
          if (typeof d.clientId !== 'string' || d.clientId.length) {
            m.clientId = $String(d.clientId);
          }
        }
        if (d.mac != null) {
          if (d.mac.length) {
            if (typeof d.mac === 'string')
              $util.base64.decode(d.mac, (m.mac = $util.newBuffer($util.base64.length(d.mac))), 0);
            else if (d.mac.length >= 0) m.mac = d.mac;
          }
        }
        return m;
      };

      ClientHello.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.protocolVersion = 0;
          d.clusterId = '';
          d.clientId = '';
          if (o.bytes === $String) d.mac = '';
          else {
            d.mac = [];
            if (o.bytes !== $Array) d.mac = $util.newBuffer(d.mac);
          }
        }
        if (m.protocolVersion != null && $Object.hasOwnProperty.call(m, 'protocolVersion')) {
          d.protocolVersion = m.protocolVersion;
        }
        if (m.clusterId != null && $Object.hasOwnProperty.call(m, 'clusterId')) {
          d.clusterId = m.clusterId;
        }
        if (m.clientId != null && $Object.hasOwnProperty.call(m, 'clientId')) {
          d.clientId = m.clientId;
        }
        if (m.mac != null && $Object.hasOwnProperty.call(m, 'mac')) {
          d.mac =
            o.bytes === $String
              ? $util.base64.encode(m.mac, 0, m.mac.length)
              : o.bytes === $Array
                ? $Array.prototype.slice.call(m.mac)
                : m.mac;
        }
        return d;
      };

      ClientHello.prototype.toJSON = function () {
        return ClientHello.toObject(this, $protobuf.util.toJSONOptions);
      };

      ClientHello.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.ClientHello';
      };

      return ClientHello;
    })();

    dataplane.HelloResponse = (function () {
      const HelloResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      HelloResponse.prototype.status = null;

      HelloResponse.create = function (properties) {
        return new HelloResponse(properties);
      };

      HelloResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status'))
          $root.ballast.dataplane.Status.encode(m.status, w.uint32(10).fork(), q + 1).ldelim();
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      HelloResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.HelloResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              m.status = $root.ballast.dataplane.Status.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.status,
              );
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      HelloResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          {
            var e = $root.ballast.dataplane.Status.verify(m.status, q + 1);
            if (e) return 'status.' + e;
          }
        }
        return null;
      };

      HelloResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.HelloResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.HelloResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.HelloResponse();
        if (d.status != null) {
          if (!$util.isObject(d.status))
            throw $TypeError('.ballast.dataplane.HelloResponse.status: object expected');
          m.status = $root.ballast.dataplane.Status.fromObject(d.status, q + 1);
        }
        return m;
      };

      HelloResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.status = null;
        }
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          d.status = $root.ballast.dataplane.Status.toObject(m.status, o, q + 1);
        }
        return d;
      };

      HelloResponse.prototype.toJSON = function () {
        return HelloResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      HelloResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.HelloResponse';
      };

      return HelloResponse;
    })();

    dataplane.OpenSession = (function () {
      const OpenSession = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      OpenSession.prototype.volumeId = '';
      OpenSession.prototype.epoch = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      OpenSession.prototype.sizeBytes = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      OpenSession.prototype.chunkSizeBytes = 0;

      OpenSession.create = function (properties) {
        return new OpenSession(properties);
      };

      OpenSession.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.volumeId != null && $Object.hasOwnProperty.call(m, 'volumeId') && m.volumeId !== '')
          w.uint32(10).string(m.volumeId);
        if (
          m.epoch != null &&
          $Object.hasOwnProperty.call(m, 'epoch') &&
          (typeof m.epoch === 'object' ? m.epoch.low || m.epoch.high : m.epoch !== 0)
        )
          w.uint32(16).uint64(m.epoch);
        if (
          m.sizeBytes != null &&
          $Object.hasOwnProperty.call(m, 'sizeBytes') &&
          (typeof m.sizeBytes === 'object'
            ? m.sizeBytes.low || m.sizeBytes.high
            : m.sizeBytes !== 0)
        )
          w.uint32(24).uint64(m.sizeBytes);
        if (
          m.chunkSizeBytes != null &&
          $Object.hasOwnProperty.call(m, 'chunkSizeBytes') &&
          m.chunkSizeBytes !== 0
        )
          w.uint32(32).uint32(m.chunkSizeBytes);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      OpenSession.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.OpenSession();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.volumeId = v;
              else delete m.volumeId;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.epoch = v;
              else delete m.epoch;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.sizeBytes = v;
              else delete m.sizeBytes;
              continue;
            }
            case 4: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.chunkSizeBytes = v;
              else delete m.chunkSizeBytes;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      OpenSession.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.volumeId != null && $Object.hasOwnProperty.call(m, 'volumeId')) {
          if (!$util.isString(m.volumeId)) return 'volumeId: string expected';
        }
        if (m.epoch != null && $Object.hasOwnProperty.call(m, 'epoch')) {
          if (
            !$util.isInteger(m.epoch) &&
            !(m.epoch && $util.isInteger(m.epoch.low) && $util.isInteger(m.epoch.high))
          )
            return 'epoch: integer|Long expected';
        }
        if (m.sizeBytes != null && $Object.hasOwnProperty.call(m, 'sizeBytes')) {
          if (
            !$util.isInteger(m.sizeBytes) &&
            !(m.sizeBytes && $util.isInteger(m.sizeBytes.low) && $util.isInteger(m.sizeBytes.high))
          )
            return 'sizeBytes: integer|Long expected';
        }
        if (m.chunkSizeBytes != null && $Object.hasOwnProperty.call(m, 'chunkSizeBytes')) {
          if (!$util.isInteger(m.chunkSizeBytes)) return 'chunkSizeBytes: integer expected';
        }
        return null;
      };

      OpenSession.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.OpenSession) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.dataplane.OpenSession: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.OpenSession();
        if (d.volumeId != null) {
          if (typeof d.volumeId !== 'string' || d.volumeId.length) {
            m.volumeId = $String(d.volumeId);
          }
        }
        if (d.epoch != null) {
          if (typeof d.epoch === 'object' ? d.epoch.low || d.epoch.high : $Number(d.epoch) !== 0) {
            if ($util.Long) m.epoch = $util.Long.fromValue(d.epoch, true);
            else if (typeof d.epoch === 'string') m.epoch = $parseInt(d.epoch, 10);
            else if (typeof d.epoch === 'number') m.epoch = d.epoch;
            else if (typeof d.epoch === 'object')
              m.epoch = new $util.LongBits(d.epoch.low >>> 0, d.epoch.high >>> 0).toNumber(true);
          }
        }
        if (d.sizeBytes != null) {
          if (
            typeof d.sizeBytes === 'object'
              ? d.sizeBytes.low || d.sizeBytes.high
              : $Number(d.sizeBytes) !== 0
          ) {
            if ($util.Long) m.sizeBytes = $util.Long.fromValue(d.sizeBytes, true);
            else if (typeof d.sizeBytes === 'string') m.sizeBytes = $parseInt(d.sizeBytes, 10);
            else if (typeof d.sizeBytes === 'number') m.sizeBytes = d.sizeBytes;
            else if (typeof d.sizeBytes === 'object')
              m.sizeBytes = new $util.LongBits(
                d.sizeBytes.low >>> 0,
                d.sizeBytes.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.chunkSizeBytes != null) {
          if ($Number(d.chunkSizeBytes) !== 0) {
            m.chunkSizeBytes = d.chunkSizeBytes >>> 0;
          }
        }
        return m;
      };

      OpenSession.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.volumeId = '';
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.epoch =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.epoch =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.sizeBytes =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.sizeBytes =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.chunkSizeBytes = 0;
        }
        if (m.volumeId != null && $Object.hasOwnProperty.call(m, 'volumeId')) {
          d.volumeId = m.volumeId;
        }
        if (m.epoch != null && $Object.hasOwnProperty.call(m, 'epoch')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.epoch =
              typeof m.epoch === 'number'
                ? $BigInt(m.epoch)
                : $util.Long.fromBits(m.epoch.low >>> 0, m.epoch.high >>> 0, true).toBigInt();
          else if (typeof m.epoch === 'number')
            d.epoch = o.longs === $String ? $String(m.epoch) : m.epoch;
          else
            d.epoch =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.epoch)
                : o.longs === $Number
                  ? new $util.LongBits(m.epoch.low >>> 0, m.epoch.high >>> 0).toNumber(true)
                  : m.epoch;
        }
        if (m.sizeBytes != null && $Object.hasOwnProperty.call(m, 'sizeBytes')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.sizeBytes =
              typeof m.sizeBytes === 'number'
                ? $BigInt(m.sizeBytes)
                : $util.Long.fromBits(
                    m.sizeBytes.low >>> 0,
                    m.sizeBytes.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.sizeBytes === 'number')
            d.sizeBytes = o.longs === $String ? $String(m.sizeBytes) : m.sizeBytes;
          else
            d.sizeBytes =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.sizeBytes)
                : o.longs === $Number
                  ? new $util.LongBits(m.sizeBytes.low >>> 0, m.sizeBytes.high >>> 0).toNumber(true)
                  : m.sizeBytes;
        }
        if (m.chunkSizeBytes != null && $Object.hasOwnProperty.call(m, 'chunkSizeBytes')) {
          d.chunkSizeBytes = m.chunkSizeBytes;
        }
        return d;
      };

      OpenSession.prototype.toJSON = function () {
        return OpenSession.toObject(this, $protobuf.util.toJSONOptions);
      };

      OpenSession.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.OpenSession';
      };

      return OpenSession;
    })();

    dataplane.OpenSessionResponse = (function () {
      const OpenSessionResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      OpenSessionResponse.prototype.status = null;
      OpenSessionResponse.prototype.sessionId = 0;
      OpenSessionResponse.prototype.sizeBytes = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      OpenSessionResponse.prototype.chunkSizeBytes = 0;
      OpenSessionResponse.prototype.blockSizeBytes = 0;
      OpenSessionResponse.prototype.highestEpoch = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;

      OpenSessionResponse.create = function (properties) {
        return new OpenSessionResponse(properties);
      };

      OpenSessionResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status'))
          $root.ballast.dataplane.Status.encode(m.status, w.uint32(10).fork(), q + 1).ldelim();
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId') && m.sessionId !== 0)
          w.uint32(16).uint32(m.sessionId);
        if (
          m.sizeBytes != null &&
          $Object.hasOwnProperty.call(m, 'sizeBytes') &&
          (typeof m.sizeBytes === 'object'
            ? m.sizeBytes.low || m.sizeBytes.high
            : m.sizeBytes !== 0)
        )
          w.uint32(24).uint64(m.sizeBytes);
        if (
          m.chunkSizeBytes != null &&
          $Object.hasOwnProperty.call(m, 'chunkSizeBytes') &&
          m.chunkSizeBytes !== 0
        )
          w.uint32(32).uint32(m.chunkSizeBytes);
        if (
          m.blockSizeBytes != null &&
          $Object.hasOwnProperty.call(m, 'blockSizeBytes') &&
          m.blockSizeBytes !== 0
        )
          w.uint32(40).uint32(m.blockSizeBytes);
        if (
          m.highestEpoch != null &&
          $Object.hasOwnProperty.call(m, 'highestEpoch') &&
          (typeof m.highestEpoch === 'object'
            ? m.highestEpoch.low || m.highestEpoch.high
            : m.highestEpoch !== 0)
        )
          w.uint32(48).uint64(m.highestEpoch);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      OpenSessionResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.OpenSessionResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              m.status = $root.ballast.dataplane.Status.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.status,
              );
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.sessionId = v;
              else delete m.sessionId;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.sizeBytes = v;
              else delete m.sizeBytes;
              continue;
            }
            case 4: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.chunkSizeBytes = v;
              else delete m.chunkSizeBytes;
              continue;
            }
            case 5: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.blockSizeBytes = v;
              else delete m.blockSizeBytes;
              continue;
            }
            case 6: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.highestEpoch = v;
              else delete m.highestEpoch;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      OpenSessionResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          {
            var e = $root.ballast.dataplane.Status.verify(m.status, q + 1);
            if (e) return 'status.' + e;
          }
        }
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          if (!$util.isInteger(m.sessionId)) return 'sessionId: integer expected';
        }
        if (m.sizeBytes != null && $Object.hasOwnProperty.call(m, 'sizeBytes')) {
          if (
            !$util.isInteger(m.sizeBytes) &&
            !(m.sizeBytes && $util.isInteger(m.sizeBytes.low) && $util.isInteger(m.sizeBytes.high))
          )
            return 'sizeBytes: integer|Long expected';
        }
        if (m.chunkSizeBytes != null && $Object.hasOwnProperty.call(m, 'chunkSizeBytes')) {
          if (!$util.isInteger(m.chunkSizeBytes)) return 'chunkSizeBytes: integer expected';
        }
        if (m.blockSizeBytes != null && $Object.hasOwnProperty.call(m, 'blockSizeBytes')) {
          if (!$util.isInteger(m.blockSizeBytes)) return 'blockSizeBytes: integer expected';
        }
        if (m.highestEpoch != null && $Object.hasOwnProperty.call(m, 'highestEpoch')) {
          if (
            !$util.isInteger(m.highestEpoch) &&
            !(
              m.highestEpoch &&
              $util.isInteger(m.highestEpoch.low) &&
              $util.isInteger(m.highestEpoch.high)
            )
          )
            return 'highestEpoch: integer|Long expected';
        }
        return null;
      };

      OpenSessionResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.OpenSessionResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.OpenSessionResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.OpenSessionResponse();
        if (d.status != null) {
          if (!$util.isObject(d.status))
            throw $TypeError('.ballast.dataplane.OpenSessionResponse.status: object expected');
          m.status = $root.ballast.dataplane.Status.fromObject(d.status, q + 1);
        }
        if (d.sessionId != null) {
          if ($Number(d.sessionId) !== 0) {
            m.sessionId = d.sessionId >>> 0;
          }
        }
        if (d.sizeBytes != null) {
          if (
            typeof d.sizeBytes === 'object'
              ? d.sizeBytes.low || d.sizeBytes.high
              : $Number(d.sizeBytes) !== 0
          ) {
            if ($util.Long) m.sizeBytes = $util.Long.fromValue(d.sizeBytes, true);
            else if (typeof d.sizeBytes === 'string') m.sizeBytes = $parseInt(d.sizeBytes, 10);
            else if (typeof d.sizeBytes === 'number') m.sizeBytes = d.sizeBytes;
            else if (typeof d.sizeBytes === 'object')
              m.sizeBytes = new $util.LongBits(
                d.sizeBytes.low >>> 0,
                d.sizeBytes.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.chunkSizeBytes != null) {
          if ($Number(d.chunkSizeBytes) !== 0) {
            m.chunkSizeBytes = d.chunkSizeBytes >>> 0;
          }
        }
        if (d.blockSizeBytes != null) {
          if ($Number(d.blockSizeBytes) !== 0) {
            m.blockSizeBytes = d.blockSizeBytes >>> 0;
          }
        }
        if (d.highestEpoch != null) {
          if (
            typeof d.highestEpoch === 'object'
              ? d.highestEpoch.low || d.highestEpoch.high
              : $Number(d.highestEpoch) !== 0
          ) {
            if ($util.Long) m.highestEpoch = $util.Long.fromValue(d.highestEpoch, true);
            else if (typeof d.highestEpoch === 'string')
              m.highestEpoch = $parseInt(d.highestEpoch, 10);
            else if (typeof d.highestEpoch === 'number') m.highestEpoch = d.highestEpoch;
            else if (typeof d.highestEpoch === 'object')
              m.highestEpoch = new $util.LongBits(
                d.highestEpoch.low >>> 0,
                d.highestEpoch.high >>> 0,
              ).toNumber(true);
          }
        }
        return m;
      };

      OpenSessionResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.status = null;
          d.sessionId = 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.sizeBytes =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.sizeBytes =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.chunkSizeBytes = 0;
          d.blockSizeBytes = 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.highestEpoch =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.highestEpoch =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
        }
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          d.status = $root.ballast.dataplane.Status.toObject(m.status, o, q + 1);
        }
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          d.sessionId = m.sessionId;
        }
        if (m.sizeBytes != null && $Object.hasOwnProperty.call(m, 'sizeBytes')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.sizeBytes =
              typeof m.sizeBytes === 'number'
                ? $BigInt(m.sizeBytes)
                : $util.Long.fromBits(
                    m.sizeBytes.low >>> 0,
                    m.sizeBytes.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.sizeBytes === 'number')
            d.sizeBytes = o.longs === $String ? $String(m.sizeBytes) : m.sizeBytes;
          else
            d.sizeBytes =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.sizeBytes)
                : o.longs === $Number
                  ? new $util.LongBits(m.sizeBytes.low >>> 0, m.sizeBytes.high >>> 0).toNumber(true)
                  : m.sizeBytes;
        }
        if (m.chunkSizeBytes != null && $Object.hasOwnProperty.call(m, 'chunkSizeBytes')) {
          d.chunkSizeBytes = m.chunkSizeBytes;
        }
        if (m.blockSizeBytes != null && $Object.hasOwnProperty.call(m, 'blockSizeBytes')) {
          d.blockSizeBytes = m.blockSizeBytes;
        }
        if (m.highestEpoch != null && $Object.hasOwnProperty.call(m, 'highestEpoch')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.highestEpoch =
              typeof m.highestEpoch === 'number'
                ? $BigInt(m.highestEpoch)
                : $util.Long.fromBits(
                    m.highestEpoch.low >>> 0,
                    m.highestEpoch.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.highestEpoch === 'number')
            d.highestEpoch = o.longs === $String ? $String(m.highestEpoch) : m.highestEpoch;
          else
            d.highestEpoch =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.highestEpoch)
                : o.longs === $Number
                  ? new $util.LongBits(
                      m.highestEpoch.low >>> 0,
                      m.highestEpoch.high >>> 0,
                    ).toNumber(true)
                  : m.highestEpoch;
        }
        return d;
      };

      OpenSessionResponse.prototype.toJSON = function () {
        return OpenSessionResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      OpenSessionResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.OpenSessionResponse';
      };

      return OpenSessionResponse;
    })();

    dataplane.CloseSession = (function () {
      const CloseSession = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      CloseSession.prototype.sessionId = 0;

      CloseSession.create = function (properties) {
        return new CloseSession(properties);
      };

      CloseSession.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId') && m.sessionId !== 0)
          w.uint32(8).uint32(m.sessionId);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      CloseSession.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.CloseSession();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.sessionId = v;
              else delete m.sessionId;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      CloseSession.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          if (!$util.isInteger(m.sessionId)) return 'sessionId: integer expected';
        }
        return null;
      };

      CloseSession.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.CloseSession) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.CloseSession: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.CloseSession();
        if (d.sessionId != null) {
          if ($Number(d.sessionId) !== 0) {
            m.sessionId = d.sessionId >>> 0;
          }
        }
        return m;
      };

      CloseSession.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.sessionId = 0;
        }
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          d.sessionId = m.sessionId;
        }
        return d;
      };

      CloseSession.prototype.toJSON = function () {
        return CloseSession.toObject(this, $protobuf.util.toJSONOptions);
      };

      CloseSession.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.CloseSession';
      };

      return CloseSession;
    })();

    dataplane.ReadRequest = (function () {
      const ReadRequest = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      ReadRequest.prototype.sessionId = 0;
      ReadRequest.prototype.offset = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      ReadRequest.prototype.length = 0;

      ReadRequest.create = function (properties) {
        return new ReadRequest(properties);
      };

      ReadRequest.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId') && m.sessionId !== 0)
          w.uint32(8).uint32(m.sessionId);
        if (
          m.offset != null &&
          $Object.hasOwnProperty.call(m, 'offset') &&
          (typeof m.offset === 'object' ? m.offset.low || m.offset.high : m.offset !== 0)
        )
          w.uint32(16).uint64(m.offset);
        if (m.length != null && $Object.hasOwnProperty.call(m, 'length') && m.length !== 0)
          w.uint32(24).uint32(m.length);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      ReadRequest.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.ReadRequest();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.sessionId = v;
              else delete m.sessionId;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.offset = v;
              else delete m.offset;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.length = v;
              else delete m.length;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      ReadRequest.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          if (!$util.isInteger(m.sessionId)) return 'sessionId: integer expected';
        }
        if (m.offset != null && $Object.hasOwnProperty.call(m, 'offset')) {
          if (
            !$util.isInteger(m.offset) &&
            !(m.offset && $util.isInteger(m.offset.low) && $util.isInteger(m.offset.high))
          )
            return 'offset: integer|Long expected';
        }
        if (m.length != null && $Object.hasOwnProperty.call(m, 'length')) {
          if (!$util.isInteger(m.length)) return 'length: integer expected';
        }
        return null;
      };

      ReadRequest.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.ReadRequest) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.dataplane.ReadRequest: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.ReadRequest();
        if (d.sessionId != null) {
          if ($Number(d.sessionId) !== 0) {
            m.sessionId = d.sessionId >>> 0;
          }
        }
        if (d.offset != null) {
          if (
            typeof d.offset === 'object' ? d.offset.low || d.offset.high : $Number(d.offset) !== 0
          ) {
            if ($util.Long) m.offset = $util.Long.fromValue(d.offset, true);
            else if (typeof d.offset === 'string') m.offset = $parseInt(d.offset, 10);
            else if (typeof d.offset === 'number') m.offset = d.offset;
            else if (typeof d.offset === 'object')
              m.offset = new $util.LongBits(d.offset.low >>> 0, d.offset.high >>> 0).toNumber(true);
          }
        }
        if (d.length != null) {
          if ($Number(d.length) !== 0) {
            m.length = d.length >>> 0;
          }
        }
        return m;
      };

      ReadRequest.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.sessionId = 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.offset =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.offset =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.length = 0;
        }
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          d.sessionId = m.sessionId;
        }
        if (m.offset != null && $Object.hasOwnProperty.call(m, 'offset')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.offset =
              typeof m.offset === 'number'
                ? $BigInt(m.offset)
                : $util.Long.fromBits(m.offset.low >>> 0, m.offset.high >>> 0, true).toBigInt();
          else if (typeof m.offset === 'number')
            d.offset = o.longs === $String ? $String(m.offset) : m.offset;
          else
            d.offset =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.offset)
                : o.longs === $Number
                  ? new $util.LongBits(m.offset.low >>> 0, m.offset.high >>> 0).toNumber(true)
                  : m.offset;
        }
        if (m.length != null && $Object.hasOwnProperty.call(m, 'length')) {
          d.length = m.length;
        }
        return d;
      };

      ReadRequest.prototype.toJSON = function () {
        return ReadRequest.toObject(this, $protobuf.util.toJSONOptions);
      };

      ReadRequest.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.ReadRequest';
      };

      return ReadRequest;
    })();

    dataplane.ReadResponse = (function () {
      const ReadResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      ReadResponse.prototype.status = null;

      ReadResponse.create = function (properties) {
        return new ReadResponse(properties);
      };

      ReadResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status'))
          $root.ballast.dataplane.Status.encode(m.status, w.uint32(10).fork(), q + 1).ldelim();
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      ReadResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.ReadResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              m.status = $root.ballast.dataplane.Status.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.status,
              );
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      ReadResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          {
            var e = $root.ballast.dataplane.Status.verify(m.status, q + 1);
            if (e) return 'status.' + e;
          }
        }
        return null;
      };

      ReadResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.ReadResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.ReadResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.ReadResponse();
        if (d.status != null) {
          if (!$util.isObject(d.status))
            throw $TypeError('.ballast.dataplane.ReadResponse.status: object expected');
          m.status = $root.ballast.dataplane.Status.fromObject(d.status, q + 1);
        }
        return m;
      };

      ReadResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.status = null;
        }
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          d.status = $root.ballast.dataplane.Status.toObject(m.status, o, q + 1);
        }
        return d;
      };

      ReadResponse.prototype.toJSON = function () {
        return ReadResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      ReadResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.ReadResponse';
      };

      return ReadResponse;
    })();

    dataplane.WriteRequest = (function () {
      const WriteRequest = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      WriteRequest.prototype.sessionId = 0;
      WriteRequest.prototype.offset = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      WriteRequest.prototype.fua = false;

      WriteRequest.create = function (properties) {
        return new WriteRequest(properties);
      };

      WriteRequest.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId') && m.sessionId !== 0)
          w.uint32(8).uint32(m.sessionId);
        if (
          m.offset != null &&
          $Object.hasOwnProperty.call(m, 'offset') &&
          (typeof m.offset === 'object' ? m.offset.low || m.offset.high : m.offset !== 0)
        )
          w.uint32(16).uint64(m.offset);
        if (m.fua != null && $Object.hasOwnProperty.call(m, 'fua') && m.fua !== false)
          w.uint32(24).bool(m.fua);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      WriteRequest.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.WriteRequest();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.sessionId = v;
              else delete m.sessionId;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.offset = v;
              else delete m.offset;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if ((v = r.bool())) m.fua = v;
              else delete m.fua;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      WriteRequest.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          if (!$util.isInteger(m.sessionId)) return 'sessionId: integer expected';
        }
        if (m.offset != null && $Object.hasOwnProperty.call(m, 'offset')) {
          if (
            !$util.isInteger(m.offset) &&
            !(m.offset && $util.isInteger(m.offset.low) && $util.isInteger(m.offset.high))
          )
            return 'offset: integer|Long expected';
        }
        if (m.fua != null && $Object.hasOwnProperty.call(m, 'fua')) {
          if (typeof m.fua !== 'boolean') return 'fua: boolean expected';
        }
        return null;
      };

      WriteRequest.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.WriteRequest) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.WriteRequest: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.WriteRequest();
        if (d.sessionId != null) {
          if ($Number(d.sessionId) !== 0) {
            m.sessionId = d.sessionId >>> 0;
          }
        }
        if (d.offset != null) {
          if (
            typeof d.offset === 'object' ? d.offset.low || d.offset.high : $Number(d.offset) !== 0
          ) {
            if ($util.Long) m.offset = $util.Long.fromValue(d.offset, true);
            else if (typeof d.offset === 'string') m.offset = $parseInt(d.offset, 10);
            else if (typeof d.offset === 'number') m.offset = d.offset;
            else if (typeof d.offset === 'object')
              m.offset = new $util.LongBits(d.offset.low >>> 0, d.offset.high >>> 0).toNumber(true);
          }
        }
        if (d.fua != null) {
          if (d.fua) {
            m.fua = $Boolean(d.fua);
          }
        }
        return m;
      };

      WriteRequest.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.sessionId = 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.offset =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.offset =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.fua = false;
        }
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          d.sessionId = m.sessionId;
        }
        if (m.offset != null && $Object.hasOwnProperty.call(m, 'offset')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.offset =
              typeof m.offset === 'number'
                ? $BigInt(m.offset)
                : $util.Long.fromBits(m.offset.low >>> 0, m.offset.high >>> 0, true).toBigInt();
          else if (typeof m.offset === 'number')
            d.offset = o.longs === $String ? $String(m.offset) : m.offset;
          else
            d.offset =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.offset)
                : o.longs === $Number
                  ? new $util.LongBits(m.offset.low >>> 0, m.offset.high >>> 0).toNumber(true)
                  : m.offset;
        }
        if (m.fua != null && $Object.hasOwnProperty.call(m, 'fua')) {
          d.fua = m.fua;
        }
        return d;
      };

      WriteRequest.prototype.toJSON = function () {
        return WriteRequest.toObject(this, $protobuf.util.toJSONOptions);
      };

      WriteRequest.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.WriteRequest';
      };

      return WriteRequest;
    })();

    dataplane.WriteResponse = (function () {
      const WriteResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      WriteResponse.prototype.status = null;

      WriteResponse.create = function (properties) {
        return new WriteResponse(properties);
      };

      WriteResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status'))
          $root.ballast.dataplane.Status.encode(m.status, w.uint32(10).fork(), q + 1).ldelim();
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      WriteResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.WriteResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              m.status = $root.ballast.dataplane.Status.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.status,
              );
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      WriteResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          {
            var e = $root.ballast.dataplane.Status.verify(m.status, q + 1);
            if (e) return 'status.' + e;
          }
        }
        return null;
      };

      WriteResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.WriteResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.WriteResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.WriteResponse();
        if (d.status != null) {
          if (!$util.isObject(d.status))
            throw $TypeError('.ballast.dataplane.WriteResponse.status: object expected');
          m.status = $root.ballast.dataplane.Status.fromObject(d.status, q + 1);
        }
        return m;
      };

      WriteResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.status = null;
        }
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          d.status = $root.ballast.dataplane.Status.toObject(m.status, o, q + 1);
        }
        return d;
      };

      WriteResponse.prototype.toJSON = function () {
        return WriteResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      WriteResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.WriteResponse';
      };

      return WriteResponse;
    })();

    dataplane.FlushRequest = (function () {
      const FlushRequest = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      FlushRequest.prototype.sessionId = 0;

      FlushRequest.create = function (properties) {
        return new FlushRequest(properties);
      };

      FlushRequest.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId') && m.sessionId !== 0)
          w.uint32(8).uint32(m.sessionId);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      FlushRequest.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.FlushRequest();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.sessionId = v;
              else delete m.sessionId;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      FlushRequest.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          if (!$util.isInteger(m.sessionId)) return 'sessionId: integer expected';
        }
        return null;
      };

      FlushRequest.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.FlushRequest) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.FlushRequest: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.FlushRequest();
        if (d.sessionId != null) {
          if ($Number(d.sessionId) !== 0) {
            m.sessionId = d.sessionId >>> 0;
          }
        }
        return m;
      };

      FlushRequest.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.sessionId = 0;
        }
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          d.sessionId = m.sessionId;
        }
        return d;
      };

      FlushRequest.prototype.toJSON = function () {
        return FlushRequest.toObject(this, $protobuf.util.toJSONOptions);
      };

      FlushRequest.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.FlushRequest';
      };

      return FlushRequest;
    })();

    dataplane.FlushResponse = (function () {
      const FlushResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      FlushResponse.prototype.status = null;

      FlushResponse.create = function (properties) {
        return new FlushResponse(properties);
      };

      FlushResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status'))
          $root.ballast.dataplane.Status.encode(m.status, w.uint32(10).fork(), q + 1).ldelim();
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      FlushResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.FlushResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              m.status = $root.ballast.dataplane.Status.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.status,
              );
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      FlushResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          {
            var e = $root.ballast.dataplane.Status.verify(m.status, q + 1);
            if (e) return 'status.' + e;
          }
        }
        return null;
      };

      FlushResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.FlushResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.FlushResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.FlushResponse();
        if (d.status != null) {
          if (!$util.isObject(d.status))
            throw $TypeError('.ballast.dataplane.FlushResponse.status: object expected');
          m.status = $root.ballast.dataplane.Status.fromObject(d.status, q + 1);
        }
        return m;
      };

      FlushResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.status = null;
        }
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          d.status = $root.ballast.dataplane.Status.toObject(m.status, o, q + 1);
        }
        return d;
      };

      FlushResponse.prototype.toJSON = function () {
        return FlushResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      FlushResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.FlushResponse';
      };

      return FlushResponse;
    })();

    dataplane.TrimRequest = (function () {
      const TrimRequest = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      TrimRequest.prototype.sessionId = 0;
      TrimRequest.prototype.offset = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      TrimRequest.prototype.length = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      TrimRequest.prototype.zero = false;
      TrimRequest.prototype.noHole = false;
      TrimRequest.prototype.fua = false;

      TrimRequest.create = function (properties) {
        return new TrimRequest(properties);
      };

      TrimRequest.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId') && m.sessionId !== 0)
          w.uint32(8).uint32(m.sessionId);
        if (
          m.offset != null &&
          $Object.hasOwnProperty.call(m, 'offset') &&
          (typeof m.offset === 'object' ? m.offset.low || m.offset.high : m.offset !== 0)
        )
          w.uint32(16).uint64(m.offset);
        if (
          m.length != null &&
          $Object.hasOwnProperty.call(m, 'length') &&
          (typeof m.length === 'object' ? m.length.low || m.length.high : m.length !== 0)
        )
          w.uint32(24).uint64(m.length);
        if (m.zero != null && $Object.hasOwnProperty.call(m, 'zero') && m.zero !== false)
          w.uint32(32).bool(m.zero);
        if (m.noHole != null && $Object.hasOwnProperty.call(m, 'noHole') && m.noHole !== false)
          w.uint32(40).bool(m.noHole);
        if (m.fua != null && $Object.hasOwnProperty.call(m, 'fua') && m.fua !== false)
          w.uint32(48).bool(m.fua);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      TrimRequest.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.TrimRequest();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.sessionId = v;
              else delete m.sessionId;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.offset = v;
              else delete m.offset;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.length = v;
              else delete m.length;
              continue;
            }
            case 4: {
              if (u !== 0) break;
              if ((v = r.bool())) m.zero = v;
              else delete m.zero;
              continue;
            }
            case 5: {
              if (u !== 0) break;
              if ((v = r.bool())) m.noHole = v;
              else delete m.noHole;
              continue;
            }
            case 6: {
              if (u !== 0) break;
              if ((v = r.bool())) m.fua = v;
              else delete m.fua;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      TrimRequest.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          if (!$util.isInteger(m.sessionId)) return 'sessionId: integer expected';
        }
        if (m.offset != null && $Object.hasOwnProperty.call(m, 'offset')) {
          if (
            !$util.isInteger(m.offset) &&
            !(m.offset && $util.isInteger(m.offset.low) && $util.isInteger(m.offset.high))
          )
            return 'offset: integer|Long expected';
        }
        if (m.length != null && $Object.hasOwnProperty.call(m, 'length')) {
          if (
            !$util.isInteger(m.length) &&
            !(m.length && $util.isInteger(m.length.low) && $util.isInteger(m.length.high))
          )
            return 'length: integer|Long expected';
        }
        if (m.zero != null && $Object.hasOwnProperty.call(m, 'zero')) {
          if (typeof m.zero !== 'boolean') return 'zero: boolean expected';
        }
        if (m.noHole != null && $Object.hasOwnProperty.call(m, 'noHole')) {
          if (typeof m.noHole !== 'boolean') return 'noHole: boolean expected';
        }
        if (m.fua != null && $Object.hasOwnProperty.call(m, 'fua')) {
          if (typeof m.fua !== 'boolean') return 'fua: boolean expected';
        }
        return null;
      };

      TrimRequest.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.TrimRequest) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.dataplane.TrimRequest: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.TrimRequest();
        if (d.sessionId != null) {
          if ($Number(d.sessionId) !== 0) {
            m.sessionId = d.sessionId >>> 0;
          }
        }
        if (d.offset != null) {
          if (
            typeof d.offset === 'object' ? d.offset.low || d.offset.high : $Number(d.offset) !== 0
          ) {
            if ($util.Long) m.offset = $util.Long.fromValue(d.offset, true);
            else if (typeof d.offset === 'string') m.offset = $parseInt(d.offset, 10);
            else if (typeof d.offset === 'number') m.offset = d.offset;
            else if (typeof d.offset === 'object')
              m.offset = new $util.LongBits(d.offset.low >>> 0, d.offset.high >>> 0).toNumber(true);
          }
        }
        if (d.length != null) {
          if (
            typeof d.length === 'object' ? d.length.low || d.length.high : $Number(d.length) !== 0
          ) {
            if ($util.Long) m.length = $util.Long.fromValue(d.length, true);
            else if (typeof d.length === 'string') m.length = $parseInt(d.length, 10);
            else if (typeof d.length === 'number') m.length = d.length;
            else if (typeof d.length === 'object')
              m.length = new $util.LongBits(d.length.low >>> 0, d.length.high >>> 0).toNumber(true);
          }
        }
        if (d.zero != null) {
          if (d.zero) {
            m.zero = $Boolean(d.zero);
          }
        }
        if (d.noHole != null) {
          if (d.noHole) {
            m.noHole = $Boolean(d.noHole);
          }
        }
        if (d.fua != null) {
          if (d.fua) {
            m.fua = $Boolean(d.fua);
          }
        }
        return m;
      };

      TrimRequest.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.sessionId = 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.offset =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.offset =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.length =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.length =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.zero = false;
          d.noHole = false;
          d.fua = false;
        }
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          d.sessionId = m.sessionId;
        }
        if (m.offset != null && $Object.hasOwnProperty.call(m, 'offset')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.offset =
              typeof m.offset === 'number'
                ? $BigInt(m.offset)
                : $util.Long.fromBits(m.offset.low >>> 0, m.offset.high >>> 0, true).toBigInt();
          else if (typeof m.offset === 'number')
            d.offset = o.longs === $String ? $String(m.offset) : m.offset;
          else
            d.offset =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.offset)
                : o.longs === $Number
                  ? new $util.LongBits(m.offset.low >>> 0, m.offset.high >>> 0).toNumber(true)
                  : m.offset;
        }
        if (m.length != null && $Object.hasOwnProperty.call(m, 'length')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.length =
              typeof m.length === 'number'
                ? $BigInt(m.length)
                : $util.Long.fromBits(m.length.low >>> 0, m.length.high >>> 0, true).toBigInt();
          else if (typeof m.length === 'number')
            d.length = o.longs === $String ? $String(m.length) : m.length;
          else
            d.length =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.length)
                : o.longs === $Number
                  ? new $util.LongBits(m.length.low >>> 0, m.length.high >>> 0).toNumber(true)
                  : m.length;
        }
        if (m.zero != null && $Object.hasOwnProperty.call(m, 'zero')) {
          d.zero = m.zero;
        }
        if (m.noHole != null && $Object.hasOwnProperty.call(m, 'noHole')) {
          d.noHole = m.noHole;
        }
        if (m.fua != null && $Object.hasOwnProperty.call(m, 'fua')) {
          d.fua = m.fua;
        }
        return d;
      };

      TrimRequest.prototype.toJSON = function () {
        return TrimRequest.toObject(this, $protobuf.util.toJSONOptions);
      };

      TrimRequest.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.TrimRequest';
      };

      return TrimRequest;
    })();

    dataplane.TrimResponse = (function () {
      const TrimResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      TrimResponse.prototype.status = null;

      TrimResponse.create = function (properties) {
        return new TrimResponse(properties);
      };

      TrimResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status'))
          $root.ballast.dataplane.Status.encode(m.status, w.uint32(10).fork(), q + 1).ldelim();
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      TrimResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.TrimResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              m.status = $root.ballast.dataplane.Status.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.status,
              );
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      TrimResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          {
            var e = $root.ballast.dataplane.Status.verify(m.status, q + 1);
            if (e) return 'status.' + e;
          }
        }
        return null;
      };

      TrimResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.TrimResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.TrimResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.TrimResponse();
        if (d.status != null) {
          if (!$util.isObject(d.status))
            throw $TypeError('.ballast.dataplane.TrimResponse.status: object expected');
          m.status = $root.ballast.dataplane.Status.fromObject(d.status, q + 1);
        }
        return m;
      };

      TrimResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.status = null;
        }
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          d.status = $root.ballast.dataplane.Status.toObject(m.status, o, q + 1);
        }
        return d;
      };

      TrimResponse.prototype.toJSON = function () {
        return TrimResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      TrimResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.TrimResponse';
      };

      return TrimResponse;
    })();

    dataplane.ChunkInfo = (function () {
      const ChunkInfo = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      ChunkInfo.prototype.index = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      ChunkInfo.prototype.generation = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      ChunkInfo.prototype.dirty = false;

      ChunkInfo.create = function (properties) {
        return new ChunkInfo(properties);
      };

      ChunkInfo.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (
          m.index != null &&
          $Object.hasOwnProperty.call(m, 'index') &&
          (typeof m.index === 'object' ? m.index.low || m.index.high : m.index !== 0)
        )
          w.uint32(8).uint64(m.index);
        if (
          m.generation != null &&
          $Object.hasOwnProperty.call(m, 'generation') &&
          (typeof m.generation === 'object'
            ? m.generation.low || m.generation.high
            : m.generation !== 0)
        )
          w.uint32(16).uint64(m.generation);
        if (m.dirty != null && $Object.hasOwnProperty.call(m, 'dirty') && m.dirty !== false)
          w.uint32(24).bool(m.dirty);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      ChunkInfo.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.ChunkInfo();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.index = v;
              else delete m.index;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.generation = v;
              else delete m.generation;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if ((v = r.bool())) m.dirty = v;
              else delete m.dirty;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      ChunkInfo.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (
            !$util.isInteger(m.index) &&
            !(m.index && $util.isInteger(m.index.low) && $util.isInteger(m.index.high))
          )
            return 'index: integer|Long expected';
        }
        if (m.generation != null && $Object.hasOwnProperty.call(m, 'generation')) {
          if (
            !$util.isInteger(m.generation) &&
            !(
              m.generation &&
              $util.isInteger(m.generation.low) &&
              $util.isInteger(m.generation.high)
            )
          )
            return 'generation: integer|Long expected';
        }
        if (m.dirty != null && $Object.hasOwnProperty.call(m, 'dirty')) {
          if (typeof m.dirty !== 'boolean') return 'dirty: boolean expected';
        }
        return null;
      };

      ChunkInfo.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.ChunkInfo) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.dataplane.ChunkInfo: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.ChunkInfo();
        if (d.index != null) {
          if (typeof d.index === 'object' ? d.index.low || d.index.high : $Number(d.index) !== 0) {
            if ($util.Long) m.index = $util.Long.fromValue(d.index, true);
            else if (typeof d.index === 'string') m.index = $parseInt(d.index, 10);
            else if (typeof d.index === 'number') m.index = d.index;
            else if (typeof d.index === 'object')
              m.index = new $util.LongBits(d.index.low >>> 0, d.index.high >>> 0).toNumber(true);
          }
        }
        if (d.generation != null) {
          if (
            typeof d.generation === 'object'
              ? d.generation.low || d.generation.high
              : $Number(d.generation) !== 0
          ) {
            if ($util.Long) m.generation = $util.Long.fromValue(d.generation, true);
            else if (typeof d.generation === 'string') m.generation = $parseInt(d.generation, 10);
            else if (typeof d.generation === 'number') m.generation = d.generation;
            else if (typeof d.generation === 'object')
              m.generation = new $util.LongBits(
                d.generation.low >>> 0,
                d.generation.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.dirty != null) {
          if (d.dirty) {
            m.dirty = $Boolean(d.dirty);
          }
        }
        return m;
      };

      ChunkInfo.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.index =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.index =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.generation =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.generation =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.dirty = false;
        }
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.index =
              typeof m.index === 'number'
                ? $BigInt(m.index)
                : $util.Long.fromBits(m.index.low >>> 0, m.index.high >>> 0, true).toBigInt();
          else if (typeof m.index === 'number')
            d.index = o.longs === $String ? $String(m.index) : m.index;
          else
            d.index =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.index)
                : o.longs === $Number
                  ? new $util.LongBits(m.index.low >>> 0, m.index.high >>> 0).toNumber(true)
                  : m.index;
        }
        if (m.generation != null && $Object.hasOwnProperty.call(m, 'generation')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.generation =
              typeof m.generation === 'number'
                ? $BigInt(m.generation)
                : $util.Long.fromBits(
                    m.generation.low >>> 0,
                    m.generation.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.generation === 'number')
            d.generation = o.longs === $String ? $String(m.generation) : m.generation;
          else
            d.generation =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.generation)
                : o.longs === $Number
                  ? new $util.LongBits(m.generation.low >>> 0, m.generation.high >>> 0).toNumber(
                      true,
                    )
                  : m.generation;
        }
        if (m.dirty != null && $Object.hasOwnProperty.call(m, 'dirty')) {
          d.dirty = m.dirty;
        }
        return d;
      };

      ChunkInfo.prototype.toJSON = function () {
        return ChunkInfo.toObject(this, $protobuf.util.toJSONOptions);
      };

      ChunkInfo.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.ChunkInfo';
      };

      return ChunkInfo;
    })();

    dataplane.GetChunkMapRequest = (function () {
      const GetChunkMapRequest = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      GetChunkMapRequest.prototype.sessionId = 0;
      GetChunkMapRequest.prototype.volumeId = '';

      GetChunkMapRequest.create = function (properties) {
        return new GetChunkMapRequest(properties);
      };

      GetChunkMapRequest.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId') && m.sessionId !== 0)
          w.uint32(8).uint32(m.sessionId);
        if (m.volumeId != null && $Object.hasOwnProperty.call(m, 'volumeId') && m.volumeId !== '')
          w.uint32(18).string(m.volumeId);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      GetChunkMapRequest.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.GetChunkMapRequest();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.sessionId = v;
              else delete m.sessionId;
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.volumeId = v;
              else delete m.volumeId;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      GetChunkMapRequest.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          if (!$util.isInteger(m.sessionId)) return 'sessionId: integer expected';
        }
        if (m.volumeId != null && $Object.hasOwnProperty.call(m, 'volumeId')) {
          if (!$util.isString(m.volumeId)) return 'volumeId: string expected';
        }
        return null;
      };

      GetChunkMapRequest.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.GetChunkMapRequest) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.GetChunkMapRequest: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.GetChunkMapRequest();
        if (d.sessionId != null) {
          if ($Number(d.sessionId) !== 0) {
            m.sessionId = d.sessionId >>> 0;
          }
        }
        if (d.volumeId != null) {
          if (typeof d.volumeId !== 'string' || d.volumeId.length) {
            m.volumeId = $String(d.volumeId);
          }
        }
        return m;
      };

      GetChunkMapRequest.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.sessionId = 0;
          d.volumeId = '';
        }
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          d.sessionId = m.sessionId;
        }
        if (m.volumeId != null && $Object.hasOwnProperty.call(m, 'volumeId')) {
          d.volumeId = m.volumeId;
        }
        return d;
      };

      GetChunkMapRequest.prototype.toJSON = function () {
        return GetChunkMapRequest.toObject(this, $protobuf.util.toJSONOptions);
      };

      GetChunkMapRequest.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.GetChunkMapRequest';
      };

      return GetChunkMapRequest;
    })();

    dataplane.GetChunkMapResponse = (function () {
      const GetChunkMapResponse = function (p) {
        this.chunks = [];
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      GetChunkMapResponse.prototype.status = null;
      GetChunkMapResponse.prototype.chunkSizeBytes = 0;
      GetChunkMapResponse.prototype.chunks = $util.emptyArray;

      GetChunkMapResponse.create = function (properties) {
        return new GetChunkMapResponse(properties);
      };

      GetChunkMapResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status'))
          $root.ballast.dataplane.Status.encode(m.status, w.uint32(10).fork(), q + 1).ldelim();
        if (
          m.chunkSizeBytes != null &&
          $Object.hasOwnProperty.call(m, 'chunkSizeBytes') &&
          m.chunkSizeBytes !== 0
        )
          w.uint32(16).uint32(m.chunkSizeBytes);
        if (m.chunks != null && m.chunks.length) {
          for (var i = 0; i < m.chunks.length; ++i)
            $root.ballast.dataplane.ChunkInfo.encode(
              m.chunks[i],
              w.uint32(26).fork(),
              q + 1,
            ).ldelim();
        }
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      GetChunkMapResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.GetChunkMapResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              m.status = $root.ballast.dataplane.Status.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.status,
              );
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.chunkSizeBytes = v;
              else delete m.chunkSizeBytes;
              continue;
            }
            case 3: {
              if (u !== 2) break;
              if (!(m.chunks && m.chunks.length)) m.chunks = [];
              m.chunks.push(
                $root.ballast.dataplane.ChunkInfo.decode(r, r.size(), $undefined, q + 1),
              );
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      GetChunkMapResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          {
            var e = $root.ballast.dataplane.Status.verify(m.status, q + 1);
            if (e) return 'status.' + e;
          }
        }
        if (m.chunkSizeBytes != null && $Object.hasOwnProperty.call(m, 'chunkSizeBytes')) {
          if (!$util.isInteger(m.chunkSizeBytes)) return 'chunkSizeBytes: integer expected';
        }
        if (m.chunks != null && $Object.hasOwnProperty.call(m, 'chunks')) {
          if (!$Array.isArray(m.chunks)) return 'chunks: array expected';
          for (var i = 0; i < m.chunks.length; ++i) {
            {
              var e = $root.ballast.dataplane.ChunkInfo.verify(m.chunks[i], q + 1);
              if (e) return 'chunks.' + e;
            }
          }
        }
        return null;
      };

      GetChunkMapResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.GetChunkMapResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.GetChunkMapResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.GetChunkMapResponse();
        if (d.status != null) {
          if (!$util.isObject(d.status))
            throw $TypeError('.ballast.dataplane.GetChunkMapResponse.status: object expected');
          m.status = $root.ballast.dataplane.Status.fromObject(d.status, q + 1);
        }
        if (d.chunkSizeBytes != null) {
          if ($Number(d.chunkSizeBytes) !== 0) {
            m.chunkSizeBytes = d.chunkSizeBytes >>> 0;
          }
        }
        if (d.chunks) {
          if (!$Array.isArray(d.chunks))
            throw $TypeError('.ballast.dataplane.GetChunkMapResponse.chunks: array expected');
          m.chunks = $Array(d.chunks.length);
          for (var i = 0; i < d.chunks.length; ++i) {
            if (!$util.isObject(d.chunks[i]))
              throw $TypeError('.ballast.dataplane.GetChunkMapResponse.chunks: object expected');
            m.chunks[i] = $root.ballast.dataplane.ChunkInfo.fromObject(d.chunks[i], q + 1);
          }
        }
        return m;
      };

      GetChunkMapResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.arrays || o.defaults) {
          d.chunks = [];
        }
        if (o.defaults) {
          d.status = null;
          d.chunkSizeBytes = 0;
        }
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          d.status = $root.ballast.dataplane.Status.toObject(m.status, o, q + 1);
        }
        if (m.chunkSizeBytes != null && $Object.hasOwnProperty.call(m, 'chunkSizeBytes')) {
          d.chunkSizeBytes = m.chunkSizeBytes;
        }
        if (m.chunks && m.chunks.length) {
          d.chunks = $Array(m.chunks.length);
          for (var j = 0; j < m.chunks.length; ++j) {
            d.chunks[j] = $root.ballast.dataplane.ChunkInfo.toObject(m.chunks[j], o, q + 1);
          }
        }
        return d;
      };

      GetChunkMapResponse.prototype.toJSON = function () {
        return GetChunkMapResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      GetChunkMapResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.GetChunkMapResponse';
      };

      return GetChunkMapResponse;
    })();

    dataplane.ReadChunkRequest = (function () {
      const ReadChunkRequest = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      ReadChunkRequest.prototype.sessionId = 0;
      ReadChunkRequest.prototype.volumeId = '';
      ReadChunkRequest.prototype.index = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;

      ReadChunkRequest.create = function (properties) {
        return new ReadChunkRequest(properties);
      };

      ReadChunkRequest.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId') && m.sessionId !== 0)
          w.uint32(8).uint32(m.sessionId);
        if (m.volumeId != null && $Object.hasOwnProperty.call(m, 'volumeId') && m.volumeId !== '')
          w.uint32(18).string(m.volumeId);
        if (
          m.index != null &&
          $Object.hasOwnProperty.call(m, 'index') &&
          (typeof m.index === 'object' ? m.index.low || m.index.high : m.index !== 0)
        )
          w.uint32(24).uint64(m.index);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      ReadChunkRequest.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.ReadChunkRequest();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.sessionId = v;
              else delete m.sessionId;
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.volumeId = v;
              else delete m.volumeId;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.index = v;
              else delete m.index;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      ReadChunkRequest.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          if (!$util.isInteger(m.sessionId)) return 'sessionId: integer expected';
        }
        if (m.volumeId != null && $Object.hasOwnProperty.call(m, 'volumeId')) {
          if (!$util.isString(m.volumeId)) return 'volumeId: string expected';
        }
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (
            !$util.isInteger(m.index) &&
            !(m.index && $util.isInteger(m.index.low) && $util.isInteger(m.index.high))
          )
            return 'index: integer|Long expected';
        }
        return null;
      };

      ReadChunkRequest.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.ReadChunkRequest) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.ReadChunkRequest: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.ReadChunkRequest();
        if (d.sessionId != null) {
          if ($Number(d.sessionId) !== 0) {
            m.sessionId = d.sessionId >>> 0;
          }
        }
        if (d.volumeId != null) {
          if (typeof d.volumeId !== 'string' || d.volumeId.length) {
            m.volumeId = $String(d.volumeId);
          }
        }
        if (d.index != null) {
          if (typeof d.index === 'object' ? d.index.low || d.index.high : $Number(d.index) !== 0) {
            if ($util.Long) m.index = $util.Long.fromValue(d.index, true);
            else if (typeof d.index === 'string') m.index = $parseInt(d.index, 10);
            else if (typeof d.index === 'number') m.index = d.index;
            else if (typeof d.index === 'object')
              m.index = new $util.LongBits(d.index.low >>> 0, d.index.high >>> 0).toNumber(true);
          }
        }
        return m;
      };

      ReadChunkRequest.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.sessionId = 0;
          d.volumeId = '';
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.index =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.index =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
        }
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          d.sessionId = m.sessionId;
        }
        if (m.volumeId != null && $Object.hasOwnProperty.call(m, 'volumeId')) {
          d.volumeId = m.volumeId;
        }
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.index =
              typeof m.index === 'number'
                ? $BigInt(m.index)
                : $util.Long.fromBits(m.index.low >>> 0, m.index.high >>> 0, true).toBigInt();
          else if (typeof m.index === 'number')
            d.index = o.longs === $String ? $String(m.index) : m.index;
          else
            d.index =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.index)
                : o.longs === $Number
                  ? new $util.LongBits(m.index.low >>> 0, m.index.high >>> 0).toNumber(true)
                  : m.index;
        }
        return d;
      };

      ReadChunkRequest.prototype.toJSON = function () {
        return ReadChunkRequest.toObject(this, $protobuf.util.toJSONOptions);
      };

      ReadChunkRequest.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.ReadChunkRequest';
      };

      return ReadChunkRequest;
    })();

    dataplane.ReadChunkResponse = (function () {
      const ReadChunkResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      ReadChunkResponse.prototype.status = null;
      ReadChunkResponse.prototype.generation = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      ReadChunkResponse.prototype.hole = false;

      ReadChunkResponse.create = function (properties) {
        return new ReadChunkResponse(properties);
      };

      ReadChunkResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status'))
          $root.ballast.dataplane.Status.encode(m.status, w.uint32(10).fork(), q + 1).ldelim();
        if (
          m.generation != null &&
          $Object.hasOwnProperty.call(m, 'generation') &&
          (typeof m.generation === 'object'
            ? m.generation.low || m.generation.high
            : m.generation !== 0)
        )
          w.uint32(16).uint64(m.generation);
        if (m.hole != null && $Object.hasOwnProperty.call(m, 'hole') && m.hole !== false)
          w.uint32(24).bool(m.hole);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      ReadChunkResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.ReadChunkResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              m.status = $root.ballast.dataplane.Status.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.status,
              );
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.generation = v;
              else delete m.generation;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if ((v = r.bool())) m.hole = v;
              else delete m.hole;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      ReadChunkResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          {
            var e = $root.ballast.dataplane.Status.verify(m.status, q + 1);
            if (e) return 'status.' + e;
          }
        }
        if (m.generation != null && $Object.hasOwnProperty.call(m, 'generation')) {
          if (
            !$util.isInteger(m.generation) &&
            !(
              m.generation &&
              $util.isInteger(m.generation.low) &&
              $util.isInteger(m.generation.high)
            )
          )
            return 'generation: integer|Long expected';
        }
        if (m.hole != null && $Object.hasOwnProperty.call(m, 'hole')) {
          if (typeof m.hole !== 'boolean') return 'hole: boolean expected';
        }
        return null;
      };

      ReadChunkResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.ReadChunkResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.ReadChunkResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.ReadChunkResponse();
        if (d.status != null) {
          if (!$util.isObject(d.status))
            throw $TypeError('.ballast.dataplane.ReadChunkResponse.status: object expected');
          m.status = $root.ballast.dataplane.Status.fromObject(d.status, q + 1);
        }
        if (d.generation != null) {
          if (
            typeof d.generation === 'object'
              ? d.generation.low || d.generation.high
              : $Number(d.generation) !== 0
          ) {
            if ($util.Long) m.generation = $util.Long.fromValue(d.generation, true);
            else if (typeof d.generation === 'string') m.generation = $parseInt(d.generation, 10);
            else if (typeof d.generation === 'number') m.generation = d.generation;
            else if (typeof d.generation === 'object')
              m.generation = new $util.LongBits(
                d.generation.low >>> 0,
                d.generation.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.hole != null) {
          if (d.hole) {
            m.hole = $Boolean(d.hole);
          }
        }
        return m;
      };

      ReadChunkResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.status = null;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.generation =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.generation =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.hole = false;
        }
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          d.status = $root.ballast.dataplane.Status.toObject(m.status, o, q + 1);
        }
        if (m.generation != null && $Object.hasOwnProperty.call(m, 'generation')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.generation =
              typeof m.generation === 'number'
                ? $BigInt(m.generation)
                : $util.Long.fromBits(
                    m.generation.low >>> 0,
                    m.generation.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.generation === 'number')
            d.generation = o.longs === $String ? $String(m.generation) : m.generation;
          else
            d.generation =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.generation)
                : o.longs === $Number
                  ? new $util.LongBits(m.generation.low >>> 0, m.generation.high >>> 0).toNumber(
                      true,
                    )
                  : m.generation;
        }
        if (m.hole != null && $Object.hasOwnProperty.call(m, 'hole')) {
          d.hole = m.hole;
        }
        return d;
      };

      ReadChunkResponse.prototype.toJSON = function () {
        return ReadChunkResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      ReadChunkResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.ReadChunkResponse';
      };

      return ReadChunkResponse;
    })();

    dataplane.WriteChunkRequest = (function () {
      const WriteChunkRequest = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      WriteChunkRequest.prototype.sessionId = 0;
      WriteChunkRequest.prototype.index = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      WriteChunkRequest.prototype.generation = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      WriteChunkRequest.prototype.hole = false;

      WriteChunkRequest.create = function (properties) {
        return new WriteChunkRequest(properties);
      };

      WriteChunkRequest.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId') && m.sessionId !== 0)
          w.uint32(8).uint32(m.sessionId);
        if (
          m.index != null &&
          $Object.hasOwnProperty.call(m, 'index') &&
          (typeof m.index === 'object' ? m.index.low || m.index.high : m.index !== 0)
        )
          w.uint32(16).uint64(m.index);
        if (
          m.generation != null &&
          $Object.hasOwnProperty.call(m, 'generation') &&
          (typeof m.generation === 'object'
            ? m.generation.low || m.generation.high
            : m.generation !== 0)
        )
          w.uint32(24).uint64(m.generation);
        if (m.hole != null && $Object.hasOwnProperty.call(m, 'hole') && m.hole !== false)
          w.uint32(32).bool(m.hole);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      WriteChunkRequest.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.WriteChunkRequest();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.uint32())) m.sessionId = v;
              else delete m.sessionId;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.index = v;
              else delete m.index;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.generation = v;
              else delete m.generation;
              continue;
            }
            case 4: {
              if (u !== 0) break;
              if ((v = r.bool())) m.hole = v;
              else delete m.hole;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      WriteChunkRequest.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          if (!$util.isInteger(m.sessionId)) return 'sessionId: integer expected';
        }
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (
            !$util.isInteger(m.index) &&
            !(m.index && $util.isInteger(m.index.low) && $util.isInteger(m.index.high))
          )
            return 'index: integer|Long expected';
        }
        if (m.generation != null && $Object.hasOwnProperty.call(m, 'generation')) {
          if (
            !$util.isInteger(m.generation) &&
            !(
              m.generation &&
              $util.isInteger(m.generation.low) &&
              $util.isInteger(m.generation.high)
            )
          )
            return 'generation: integer|Long expected';
        }
        if (m.hole != null && $Object.hasOwnProperty.call(m, 'hole')) {
          if (typeof m.hole !== 'boolean') return 'hole: boolean expected';
        }
        return null;
      };

      WriteChunkRequest.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.WriteChunkRequest) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.WriteChunkRequest: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.WriteChunkRequest();
        if (d.sessionId != null) {
          if ($Number(d.sessionId) !== 0) {
            m.sessionId = d.sessionId >>> 0;
          }
        }
        if (d.index != null) {
          if (typeof d.index === 'object' ? d.index.low || d.index.high : $Number(d.index) !== 0) {
            if ($util.Long) m.index = $util.Long.fromValue(d.index, true);
            else if (typeof d.index === 'string') m.index = $parseInt(d.index, 10);
            else if (typeof d.index === 'number') m.index = d.index;
            else if (typeof d.index === 'object')
              m.index = new $util.LongBits(d.index.low >>> 0, d.index.high >>> 0).toNumber(true);
          }
        }
        if (d.generation != null) {
          if (
            typeof d.generation === 'object'
              ? d.generation.low || d.generation.high
              : $Number(d.generation) !== 0
          ) {
            if ($util.Long) m.generation = $util.Long.fromValue(d.generation, true);
            else if (typeof d.generation === 'string') m.generation = $parseInt(d.generation, 10);
            else if (typeof d.generation === 'number') m.generation = d.generation;
            else if (typeof d.generation === 'object')
              m.generation = new $util.LongBits(
                d.generation.low >>> 0,
                d.generation.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.hole != null) {
          if (d.hole) {
            m.hole = $Boolean(d.hole);
          }
        }
        return m;
      };

      WriteChunkRequest.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.sessionId = 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.index =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.index =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.generation =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.generation =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.hole = false;
        }
        if (m.sessionId != null && $Object.hasOwnProperty.call(m, 'sessionId')) {
          d.sessionId = m.sessionId;
        }
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.index =
              typeof m.index === 'number'
                ? $BigInt(m.index)
                : $util.Long.fromBits(m.index.low >>> 0, m.index.high >>> 0, true).toBigInt();
          else if (typeof m.index === 'number')
            d.index = o.longs === $String ? $String(m.index) : m.index;
          else
            d.index =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.index)
                : o.longs === $Number
                  ? new $util.LongBits(m.index.low >>> 0, m.index.high >>> 0).toNumber(true)
                  : m.index;
        }
        if (m.generation != null && $Object.hasOwnProperty.call(m, 'generation')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.generation =
              typeof m.generation === 'number'
                ? $BigInt(m.generation)
                : $util.Long.fromBits(
                    m.generation.low >>> 0,
                    m.generation.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.generation === 'number')
            d.generation = o.longs === $String ? $String(m.generation) : m.generation;
          else
            d.generation =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.generation)
                : o.longs === $Number
                  ? new $util.LongBits(m.generation.low >>> 0, m.generation.high >>> 0).toNumber(
                      true,
                    )
                  : m.generation;
        }
        if (m.hole != null && $Object.hasOwnProperty.call(m, 'hole')) {
          d.hole = m.hole;
        }
        return d;
      };

      WriteChunkRequest.prototype.toJSON = function () {
        return WriteChunkRequest.toObject(this, $protobuf.util.toJSONOptions);
      };

      WriteChunkRequest.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.WriteChunkRequest';
      };

      return WriteChunkRequest;
    })();

    dataplane.WriteChunkResponse = (function () {
      const WriteChunkResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      WriteChunkResponse.prototype.status = null;

      WriteChunkResponse.create = function (properties) {
        return new WriteChunkResponse(properties);
      };

      WriteChunkResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status'))
          $root.ballast.dataplane.Status.encode(m.status, w.uint32(10).fork(), q + 1).ldelim();
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      WriteChunkResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.WriteChunkResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              m.status = $root.ballast.dataplane.Status.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.status,
              );
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      WriteChunkResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          {
            var e = $root.ballast.dataplane.Status.verify(m.status, q + 1);
            if (e) return 'status.' + e;
          }
        }
        return null;
      };

      WriteChunkResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.WriteChunkResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.dataplane.WriteChunkResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.WriteChunkResponse();
        if (d.status != null) {
          if (!$util.isObject(d.status))
            throw $TypeError('.ballast.dataplane.WriteChunkResponse.status: object expected');
          m.status = $root.ballast.dataplane.Status.fromObject(d.status, q + 1);
        }
        return m;
      };

      WriteChunkResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.status = null;
        }
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          d.status = $root.ballast.dataplane.Status.toObject(m.status, o, q + 1);
        }
        return d;
      };

      WriteChunkResponse.prototype.toJSON = function () {
        return WriteChunkResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      WriteChunkResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.WriteChunkResponse';
      };

      return WriteChunkResponse;
    })();

    dataplane.ErrorNotice = (function () {
      const ErrorNotice = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      ErrorNotice.prototype.status = null;

      ErrorNotice.create = function (properties) {
        return new ErrorNotice(properties);
      };

      ErrorNotice.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status'))
          $root.ballast.dataplane.Status.encode(m.status, w.uint32(10).fork(), q + 1).ldelim();
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      ErrorNotice.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.dataplane.ErrorNotice();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              m.status = $root.ballast.dataplane.Status.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.status,
              );
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      ErrorNotice.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          {
            var e = $root.ballast.dataplane.Status.verify(m.status, q + 1);
            if (e) return 'status.' + e;
          }
        }
        return null;
      };

      ErrorNotice.fromObject = function (d, q) {
        if (d instanceof $root.ballast.dataplane.ErrorNotice) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.dataplane.ErrorNotice: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.dataplane.ErrorNotice();
        if (d.status != null) {
          if (!$util.isObject(d.status))
            throw $TypeError('.ballast.dataplane.ErrorNotice.status: object expected');
          m.status = $root.ballast.dataplane.Status.fromObject(d.status, q + 1);
        }
        return m;
      };

      ErrorNotice.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.status = null;
        }
        if (m.status != null && $Object.hasOwnProperty.call(m, 'status')) {
          d.status = $root.ballast.dataplane.Status.toObject(m.status, o, q + 1);
        }
        return d;
      };

      ErrorNotice.prototype.toJSON = function () {
        return ErrorNotice.toObject(this, $protobuf.util.toJSONOptions);
      };

      ErrorNotice.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.dataplane.ErrorNotice';
      };

      return ErrorNotice;
    })();

    return dataplane;
  })();

  ballast.node = (function () {
    const node = {};

    node.ReplicaHealth = (function () {
      const valuesById = $Object.create(null),
        values = $Object.create(valuesById);
      values[(valuesById[0] = 'REPLICA_HEALTHY')] = 0;
      values[(valuesById[1] = 'REPLICA_DEGRADED')] = 1;
      values[(valuesById[2] = 'REPLICA_FAILED')] = 2;
      return values;
    })();

    node.ReplicaReport = (function () {
      const ReplicaReport = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      ReplicaReport.prototype.volumeId = '';
      ReplicaReport.prototype.highestEpoch = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      ReplicaReport.prototype.allocatedBytes = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      ReplicaReport.prototype.health = 0;

      ReplicaReport.create = function (properties) {
        return new ReplicaReport(properties);
      };

      ReplicaReport.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.volumeId != null && $Object.hasOwnProperty.call(m, 'volumeId') && m.volumeId !== '')
          w.uint32(10).string(m.volumeId);
        if (
          m.highestEpoch != null &&
          $Object.hasOwnProperty.call(m, 'highestEpoch') &&
          (typeof m.highestEpoch === 'object'
            ? m.highestEpoch.low || m.highestEpoch.high
            : m.highestEpoch !== 0)
        )
          w.uint32(16).uint64(m.highestEpoch);
        if (
          m.allocatedBytes != null &&
          $Object.hasOwnProperty.call(m, 'allocatedBytes') &&
          (typeof m.allocatedBytes === 'object'
            ? m.allocatedBytes.low || m.allocatedBytes.high
            : m.allocatedBytes !== 0)
        )
          w.uint32(24).uint64(m.allocatedBytes);
        if (m.health != null && $Object.hasOwnProperty.call(m, 'health') && m.health !== 0)
          w.uint32(32).int32(m.health);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      ReplicaReport.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.node.ReplicaReport();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.volumeId = v;
              else delete m.volumeId;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.highestEpoch = v;
              else delete m.highestEpoch;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.allocatedBytes = v;
              else delete m.allocatedBytes;
              continue;
            }
            case 4: {
              if (u !== 0) break;
              if ((v = r.int32())) m.health = v;
              else delete m.health;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      ReplicaReport.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.volumeId != null && $Object.hasOwnProperty.call(m, 'volumeId')) {
          if (!$util.isString(m.volumeId)) return 'volumeId: string expected';
        }
        if (m.highestEpoch != null && $Object.hasOwnProperty.call(m, 'highestEpoch')) {
          if (
            !$util.isInteger(m.highestEpoch) &&
            !(
              m.highestEpoch &&
              $util.isInteger(m.highestEpoch.low) &&
              $util.isInteger(m.highestEpoch.high)
            )
          )
            return 'highestEpoch: integer|Long expected';
        }
        if (m.allocatedBytes != null && $Object.hasOwnProperty.call(m, 'allocatedBytes')) {
          if (
            !$util.isInteger(m.allocatedBytes) &&
            !(
              m.allocatedBytes &&
              $util.isInteger(m.allocatedBytes.low) &&
              $util.isInteger(m.allocatedBytes.high)
            )
          )
            return 'allocatedBytes: integer|Long expected';
        }
        if (m.health != null && $Object.hasOwnProperty.call(m, 'health')) {
          if (typeof m.health !== 'number' || (m.health | 0) !== m.health)
            return 'health: enum value expected';
        }
        return null;
      };

      ReplicaReport.fromObject = function (d, q) {
        if (d instanceof $root.ballast.node.ReplicaReport) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.node.ReplicaReport: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.node.ReplicaReport();
        if (d.volumeId != null) {
          if (typeof d.volumeId !== 'string' || d.volumeId.length) {
            m.volumeId = $String(d.volumeId);
          }
        }
        if (d.highestEpoch != null) {
          if (
            typeof d.highestEpoch === 'object'
              ? d.highestEpoch.low || d.highestEpoch.high
              : $Number(d.highestEpoch) !== 0
          ) {
            if ($util.Long) m.highestEpoch = $util.Long.fromValue(d.highestEpoch, true);
            else if (typeof d.highestEpoch === 'string')
              m.highestEpoch = $parseInt(d.highestEpoch, 10);
            else if (typeof d.highestEpoch === 'number') m.highestEpoch = d.highestEpoch;
            else if (typeof d.highestEpoch === 'object')
              m.highestEpoch = new $util.LongBits(
                d.highestEpoch.low >>> 0,
                d.highestEpoch.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.allocatedBytes != null) {
          if (
            typeof d.allocatedBytes === 'object'
              ? d.allocatedBytes.low || d.allocatedBytes.high
              : $Number(d.allocatedBytes) !== 0
          ) {
            if ($util.Long) m.allocatedBytes = $util.Long.fromValue(d.allocatedBytes, true);
            else if (typeof d.allocatedBytes === 'string')
              m.allocatedBytes = $parseInt(d.allocatedBytes, 10);
            else if (typeof d.allocatedBytes === 'number') m.allocatedBytes = d.allocatedBytes;
            else if (typeof d.allocatedBytes === 'object')
              m.allocatedBytes = new $util.LongBits(
                d.allocatedBytes.low >>> 0,
                d.allocatedBytes.high >>> 0,
              ).toNumber(true);
          }
        }
        if (
          d.health !== 0 &&
          (typeof d.health !== 'string' || $root.ballast.node.ReplicaHealth[d.health] !== 0)
        ) {
          switch (d.health) {
            case 'REPLICA_HEALTHY':
            case 0:
              m.health = 0;
              break;
            case 'REPLICA_DEGRADED':
            case 1:
              m.health = 1;
              break;
            case 'REPLICA_FAILED':
            case 2:
              m.health = 2;
              break;
            default:
              if (typeof d.health === 'number' && (d.health | 0) === d.health) m.health = d.health;
          }
        }
        return m;
      };

      ReplicaReport.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.volumeId = '';
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.highestEpoch =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.highestEpoch =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.allocatedBytes =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.allocatedBytes =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.health = o.enums === $String ? 'REPLICA_HEALTHY' : 0;
        }
        if (m.volumeId != null && $Object.hasOwnProperty.call(m, 'volumeId')) {
          d.volumeId = m.volumeId;
        }
        if (m.highestEpoch != null && $Object.hasOwnProperty.call(m, 'highestEpoch')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.highestEpoch =
              typeof m.highestEpoch === 'number'
                ? $BigInt(m.highestEpoch)
                : $util.Long.fromBits(
                    m.highestEpoch.low >>> 0,
                    m.highestEpoch.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.highestEpoch === 'number')
            d.highestEpoch = o.longs === $String ? $String(m.highestEpoch) : m.highestEpoch;
          else
            d.highestEpoch =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.highestEpoch)
                : o.longs === $Number
                  ? new $util.LongBits(
                      m.highestEpoch.low >>> 0,
                      m.highestEpoch.high >>> 0,
                    ).toNumber(true)
                  : m.highestEpoch;
        }
        if (m.allocatedBytes != null && $Object.hasOwnProperty.call(m, 'allocatedBytes')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.allocatedBytes =
              typeof m.allocatedBytes === 'number'
                ? $BigInt(m.allocatedBytes)
                : $util.Long.fromBits(
                    m.allocatedBytes.low >>> 0,
                    m.allocatedBytes.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.allocatedBytes === 'number')
            d.allocatedBytes = o.longs === $String ? $String(m.allocatedBytes) : m.allocatedBytes;
          else
            d.allocatedBytes =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.allocatedBytes)
                : o.longs === $Number
                  ? new $util.LongBits(
                      m.allocatedBytes.low >>> 0,
                      m.allocatedBytes.high >>> 0,
                    ).toNumber(true)
                  : m.allocatedBytes;
        }
        if (m.health != null && $Object.hasOwnProperty.call(m, 'health')) {
          d.health =
            o.enums === $String
              ? $root.ballast.node.ReplicaHealth[m.health] === $undefined
                ? m.health
                : $root.ballast.node.ReplicaHealth[m.health]
              : m.health;
        }
        return d;
      };

      ReplicaReport.prototype.toJSON = function () {
        return ReplicaReport.toObject(this, $protobuf.util.toJSONOptions);
      };

      ReplicaReport.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.node.ReplicaReport';
      };

      return ReplicaReport;
    })();

    node.NodeHeartbeat = (function () {
      const NodeHeartbeat = function (p) {
        this.labels = {};
        this.replicas = [];
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      NodeHeartbeat.prototype.nodeId = '';
      NodeHeartbeat.prototype.address = '';
      NodeHeartbeat.prototype.labels = $util.emptyObject;
      NodeHeartbeat.prototype.capacityBytes = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      NodeHeartbeat.prototype.usedBytes = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      NodeHeartbeat.prototype.replicas = $util.emptyArray;
      NodeHeartbeat.prototype.sequence = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      NodeHeartbeat.prototype.checksumErrors = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;

      NodeHeartbeat.create = function (properties) {
        return new NodeHeartbeat(properties);
      };

      NodeHeartbeat.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.nodeId != null && $Object.hasOwnProperty.call(m, 'nodeId') && m.nodeId !== '')
          w.uint32(10).string(m.nodeId);
        if (m.address != null && $Object.hasOwnProperty.call(m, 'address') && m.address !== '')
          w.uint32(18).string(m.address);
        if (m.labels != null && $Object.hasOwnProperty.call(m, 'labels')) {
          for (var ks = $Object.keys(m.labels), i = 0; i < ks.length; ++i) {
            w.uint32(26)
              .fork()
              .uint32(10)
              .string(ks[i])
              .uint32(18)
              .string(m.labels[ks[i]])
              .ldelim();
          }
        }
        if (
          m.capacityBytes != null &&
          $Object.hasOwnProperty.call(m, 'capacityBytes') &&
          (typeof m.capacityBytes === 'object'
            ? m.capacityBytes.low || m.capacityBytes.high
            : m.capacityBytes !== 0)
        )
          w.uint32(32).uint64(m.capacityBytes);
        if (
          m.usedBytes != null &&
          $Object.hasOwnProperty.call(m, 'usedBytes') &&
          (typeof m.usedBytes === 'object'
            ? m.usedBytes.low || m.usedBytes.high
            : m.usedBytes !== 0)
        )
          w.uint32(40).uint64(m.usedBytes);
        if (m.replicas != null && m.replicas.length) {
          for (var i = 0; i < m.replicas.length; ++i)
            $root.ballast.node.ReplicaReport.encode(
              m.replicas[i],
              w.uint32(50).fork(),
              q + 1,
            ).ldelim();
        }
        if (
          m.sequence != null &&
          $Object.hasOwnProperty.call(m, 'sequence') &&
          (typeof m.sequence === 'object' ? m.sequence.low || m.sequence.high : m.sequence !== 0)
        )
          w.uint32(56).uint64(m.sequence);
        if (
          m.checksumErrors != null &&
          $Object.hasOwnProperty.call(m, 'checksumErrors') &&
          (typeof m.checksumErrors === 'object'
            ? m.checksumErrors.low || m.checksumErrors.high
            : m.checksumErrors !== 0)
        )
          w.uint32(64).uint64(m.checksumErrors);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      NodeHeartbeat.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, k, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.node.NodeHeartbeat();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.nodeId = v;
              else delete m.nodeId;
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.address = v;
              else delete m.address;
              continue;
            }
            case 3: {
              if (u !== 2) break;
              if (m.labels === $util.emptyObject) m.labels = {};
              var c2 = r.size() + r.pos;
              if (c2 > r.len) throw $RangeError('index out of range');
              r.len = c2;
              k = '';
              v = '';
              while (r.pos < c2) {
                var t2 = r.tag();
                u = t2 & 7;
                switch ((t2 >>>= 3)) {
                  case 1:
                    if (u !== 2) break;
                    k = r.stringVerify();
                    continue;
                  case 2:
                    if (u !== 2) break;
                    v = r.stringVerify();
                    continue;
                }
                r.skipType(u, q, t2);
              }
              if (r.pos !== c2) throw $RangeError('index out of range');
              r.len = c;
              if (k === '__proto__') $util.makeProp(m.labels, k);
              m.labels[k] = v;
              continue;
            }
            case 4: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.capacityBytes = v;
              else delete m.capacityBytes;
              continue;
            }
            case 5: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.usedBytes = v;
              else delete m.usedBytes;
              continue;
            }
            case 6: {
              if (u !== 2) break;
              if (!(m.replicas && m.replicas.length)) m.replicas = [];
              m.replicas.push(
                $root.ballast.node.ReplicaReport.decode(r, r.size(), $undefined, q + 1),
              );
              continue;
            }
            case 7: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.sequence = v;
              else delete m.sequence;
              continue;
            }
            case 8: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.checksumErrors = v;
              else delete m.checksumErrors;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      NodeHeartbeat.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.nodeId != null && $Object.hasOwnProperty.call(m, 'nodeId')) {
          if (!$util.isString(m.nodeId)) return 'nodeId: string expected';
        }
        if (m.address != null && $Object.hasOwnProperty.call(m, 'address')) {
          if (!$util.isString(m.address)) return 'address: string expected';
        }
        if (m.labels != null && $Object.hasOwnProperty.call(m, 'labels')) {
          if (!$util.isObject(m.labels)) return 'labels: object expected';
          var k = $Object.keys(m.labels);
          for (var i = 0; i < k.length; ++i) {
            if (!$util.isString(m.labels[k[i]])) return 'labels: string{k:string} expected';
          }
        }
        if (m.capacityBytes != null && $Object.hasOwnProperty.call(m, 'capacityBytes')) {
          if (
            !$util.isInteger(m.capacityBytes) &&
            !(
              m.capacityBytes &&
              $util.isInteger(m.capacityBytes.low) &&
              $util.isInteger(m.capacityBytes.high)
            )
          )
            return 'capacityBytes: integer|Long expected';
        }
        if (m.usedBytes != null && $Object.hasOwnProperty.call(m, 'usedBytes')) {
          if (
            !$util.isInteger(m.usedBytes) &&
            !(m.usedBytes && $util.isInteger(m.usedBytes.low) && $util.isInteger(m.usedBytes.high))
          )
            return 'usedBytes: integer|Long expected';
        }
        if (m.replicas != null && $Object.hasOwnProperty.call(m, 'replicas')) {
          if (!$Array.isArray(m.replicas)) return 'replicas: array expected';
          for (var i = 0; i < m.replicas.length; ++i) {
            {
              var e = $root.ballast.node.ReplicaReport.verify(m.replicas[i], q + 1);
              if (e) return 'replicas.' + e;
            }
          }
        }
        if (m.sequence != null && $Object.hasOwnProperty.call(m, 'sequence')) {
          if (
            !$util.isInteger(m.sequence) &&
            !(m.sequence && $util.isInteger(m.sequence.low) && $util.isInteger(m.sequence.high))
          )
            return 'sequence: integer|Long expected';
        }
        if (m.checksumErrors != null && $Object.hasOwnProperty.call(m, 'checksumErrors')) {
          if (
            !$util.isInteger(m.checksumErrors) &&
            !(
              m.checksumErrors &&
              $util.isInteger(m.checksumErrors.low) &&
              $util.isInteger(m.checksumErrors.high)
            )
          )
            return 'checksumErrors: integer|Long expected';
        }
        return null;
      };

      NodeHeartbeat.fromObject = function (d, q) {
        if (d instanceof $root.ballast.node.NodeHeartbeat) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.node.NodeHeartbeat: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.node.NodeHeartbeat();
        if (d.nodeId != null) {
          if (typeof d.nodeId !== 'string' || d.nodeId.length) {
            m.nodeId = $String(d.nodeId);
          }
        }
        if (d.address != null) {
          if (typeof d.address !== 'string' || d.address.length) {
            m.address = $String(d.address);
          }
        }
        if (d.labels) {
          if (!$util.isObject(d.labels))
            throw $TypeError('.ballast.node.NodeHeartbeat.labels: object expected');
          m.labels = {};
          for (var ks = $Object.keys(d.labels), i = 0; i < ks.length; ++i) {
            if (ks[i] === '__proto__') $util.makeProp(m.labels, ks[i]);
            m.labels[ks[i]] = $String(d.labels[ks[i]]);
          }
        }
        if (d.capacityBytes != null) {
          if (
            typeof d.capacityBytes === 'object'
              ? d.capacityBytes.low || d.capacityBytes.high
              : $Number(d.capacityBytes) !== 0
          ) {
            if ($util.Long) m.capacityBytes = $util.Long.fromValue(d.capacityBytes, true);
            else if (typeof d.capacityBytes === 'string')
              m.capacityBytes = $parseInt(d.capacityBytes, 10);
            else if (typeof d.capacityBytes === 'number') m.capacityBytes = d.capacityBytes;
            else if (typeof d.capacityBytes === 'object')
              m.capacityBytes = new $util.LongBits(
                d.capacityBytes.low >>> 0,
                d.capacityBytes.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.usedBytes != null) {
          if (
            typeof d.usedBytes === 'object'
              ? d.usedBytes.low || d.usedBytes.high
              : $Number(d.usedBytes) !== 0
          ) {
            if ($util.Long) m.usedBytes = $util.Long.fromValue(d.usedBytes, true);
            else if (typeof d.usedBytes === 'string') m.usedBytes = $parseInt(d.usedBytes, 10);
            else if (typeof d.usedBytes === 'number') m.usedBytes = d.usedBytes;
            else if (typeof d.usedBytes === 'object')
              m.usedBytes = new $util.LongBits(
                d.usedBytes.low >>> 0,
                d.usedBytes.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.replicas) {
          if (!$Array.isArray(d.replicas))
            throw $TypeError('.ballast.node.NodeHeartbeat.replicas: array expected');
          m.replicas = $Array(d.replicas.length);
          for (var i = 0; i < d.replicas.length; ++i) {
            if (!$util.isObject(d.replicas[i]))
              throw $TypeError('.ballast.node.NodeHeartbeat.replicas: object expected');
            m.replicas[i] = $root.ballast.node.ReplicaReport.fromObject(d.replicas[i], q + 1);
          }
        }
        if (d.sequence != null) {
          if (
            typeof d.sequence === 'object'
              ? d.sequence.low || d.sequence.high
              : $Number(d.sequence) !== 0
          ) {
            if ($util.Long) m.sequence = $util.Long.fromValue(d.sequence, true);
            else if (typeof d.sequence === 'string') m.sequence = $parseInt(d.sequence, 10);
            else if (typeof d.sequence === 'number') m.sequence = d.sequence;
            else if (typeof d.sequence === 'object')
              m.sequence = new $util.LongBits(d.sequence.low >>> 0, d.sequence.high >>> 0).toNumber(
                true,
              );
          }
        }
        if (d.checksumErrors != null) {
          if (
            typeof d.checksumErrors === 'object'
              ? d.checksumErrors.low || d.checksumErrors.high
              : $Number(d.checksumErrors) !== 0
          ) {
            if ($util.Long) m.checksumErrors = $util.Long.fromValue(d.checksumErrors, true);
            else if (typeof d.checksumErrors === 'string')
              m.checksumErrors = $parseInt(d.checksumErrors, 10);
            else if (typeof d.checksumErrors === 'number') m.checksumErrors = d.checksumErrors;
            else if (typeof d.checksumErrors === 'object')
              m.checksumErrors = new $util.LongBits(
                d.checksumErrors.low >>> 0,
                d.checksumErrors.high >>> 0,
              ).toNumber(true);
          }
        }
        return m;
      };

      NodeHeartbeat.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.arrays || o.defaults) {
          d.replicas = [];
        }
        if (o.objects || o.defaults) {
          d.labels = {};
        }
        if (o.defaults) {
          d.nodeId = '';
          d.address = '';
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.capacityBytes =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.capacityBytes =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.usedBytes =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.usedBytes =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.sequence =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.sequence =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.checksumErrors =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.checksumErrors =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
        }
        if (m.nodeId != null && $Object.hasOwnProperty.call(m, 'nodeId')) {
          d.nodeId = m.nodeId;
        }
        if (m.address != null && $Object.hasOwnProperty.call(m, 'address')) {
          d.address = m.address;
        }
        var ks2;
        if (m.labels && (ks2 = $Object.keys(m.labels)).length) {
          d.labels = {};
          for (var j = 0; j < ks2.length; ++j) {
            if (ks2[j] === '__proto__') $util.makeProp(d.labels, ks2[j]);
            d.labels[ks2[j]] = m.labels[ks2[j]];
          }
        }
        if (m.capacityBytes != null && $Object.hasOwnProperty.call(m, 'capacityBytes')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.capacityBytes =
              typeof m.capacityBytes === 'number'
                ? $BigInt(m.capacityBytes)
                : $util.Long.fromBits(
                    m.capacityBytes.low >>> 0,
                    m.capacityBytes.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.capacityBytes === 'number')
            d.capacityBytes = o.longs === $String ? $String(m.capacityBytes) : m.capacityBytes;
          else
            d.capacityBytes =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.capacityBytes)
                : o.longs === $Number
                  ? new $util.LongBits(
                      m.capacityBytes.low >>> 0,
                      m.capacityBytes.high >>> 0,
                    ).toNumber(true)
                  : m.capacityBytes;
        }
        if (m.usedBytes != null && $Object.hasOwnProperty.call(m, 'usedBytes')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.usedBytes =
              typeof m.usedBytes === 'number'
                ? $BigInt(m.usedBytes)
                : $util.Long.fromBits(
                    m.usedBytes.low >>> 0,
                    m.usedBytes.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.usedBytes === 'number')
            d.usedBytes = o.longs === $String ? $String(m.usedBytes) : m.usedBytes;
          else
            d.usedBytes =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.usedBytes)
                : o.longs === $Number
                  ? new $util.LongBits(m.usedBytes.low >>> 0, m.usedBytes.high >>> 0).toNumber(true)
                  : m.usedBytes;
        }
        if (m.replicas && m.replicas.length) {
          d.replicas = $Array(m.replicas.length);
          for (var j = 0; j < m.replicas.length; ++j) {
            d.replicas[j] = $root.ballast.node.ReplicaReport.toObject(m.replicas[j], o, q + 1);
          }
        }
        if (m.sequence != null && $Object.hasOwnProperty.call(m, 'sequence')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.sequence =
              typeof m.sequence === 'number'
                ? $BigInt(m.sequence)
                : $util.Long.fromBits(m.sequence.low >>> 0, m.sequence.high >>> 0, true).toBigInt();
          else if (typeof m.sequence === 'number')
            d.sequence = o.longs === $String ? $String(m.sequence) : m.sequence;
          else
            d.sequence =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.sequence)
                : o.longs === $Number
                  ? new $util.LongBits(m.sequence.low >>> 0, m.sequence.high >>> 0).toNumber(true)
                  : m.sequence;
        }
        if (m.checksumErrors != null && $Object.hasOwnProperty.call(m, 'checksumErrors')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.checksumErrors =
              typeof m.checksumErrors === 'number'
                ? $BigInt(m.checksumErrors)
                : $util.Long.fromBits(
                    m.checksumErrors.low >>> 0,
                    m.checksumErrors.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.checksumErrors === 'number')
            d.checksumErrors = o.longs === $String ? $String(m.checksumErrors) : m.checksumErrors;
          else
            d.checksumErrors =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.checksumErrors)
                : o.longs === $Number
                  ? new $util.LongBits(
                      m.checksumErrors.low >>> 0,
                      m.checksumErrors.high >>> 0,
                    ).toNumber(true)
                  : m.checksumErrors;
        }
        return d;
      };

      NodeHeartbeat.prototype.toJSON = function () {
        return NodeHeartbeat.toObject(this, $protobuf.util.toJSONOptions);
      };

      NodeHeartbeat.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.node.NodeHeartbeat';
      };

      return NodeHeartbeat;
    })();

    node.NodeHeartbeatResponse = (function () {
      const NodeHeartbeatResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      NodeHeartbeatResponse.prototype.ok = false;
      NodeHeartbeatResponse.prototype.message = '';

      NodeHeartbeatResponse.create = function (properties) {
        return new NodeHeartbeatResponse(properties);
      };

      NodeHeartbeatResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.ok != null && $Object.hasOwnProperty.call(m, 'ok') && m.ok !== false)
          w.uint32(8).bool(m.ok);
        if (m.message != null && $Object.hasOwnProperty.call(m, 'message') && m.message !== '')
          w.uint32(18).string(m.message);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      NodeHeartbeatResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.node.NodeHeartbeatResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.bool())) m.ok = v;
              else delete m.ok;
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.message = v;
              else delete m.message;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      NodeHeartbeatResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.ok != null && $Object.hasOwnProperty.call(m, 'ok')) {
          if (typeof m.ok !== 'boolean') return 'ok: boolean expected';
        }
        if (m.message != null && $Object.hasOwnProperty.call(m, 'message')) {
          if (!$util.isString(m.message)) return 'message: string expected';
        }
        return null;
      };

      NodeHeartbeatResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.node.NodeHeartbeatResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.node.NodeHeartbeatResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.node.NodeHeartbeatResponse();
        if (d.ok != null) {
          if (d.ok) {
            m.ok = $Boolean(d.ok);
          }
        }
        if (d.message != null) {
          if (typeof d.message !== 'string' || d.message.length) {
            m.message = $String(d.message);
          }
        }
        return m;
      };

      NodeHeartbeatResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.ok = false;
          d.message = '';
        }
        if (m.ok != null && $Object.hasOwnProperty.call(m, 'ok')) {
          d.ok = m.ok;
        }
        if (m.message != null && $Object.hasOwnProperty.call(m, 'message')) {
          d.message = m.message;
        }
        return d;
      };

      NodeHeartbeatResponse.prototype.toJSON = function () {
        return NodeHeartbeatResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      NodeHeartbeatResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.node.NodeHeartbeatResponse';
      };

      return NodeHeartbeatResponse;
    })();

    return node;
  })();

  ballast.raft = (function () {
    const raft = {};

    raft.EntryType = (function () {
      const valuesById = $Object.create(null),
        values = $Object.create(valuesById);
      values[(valuesById[0] = 'ENTRY_NORMAL')] = 0;
      values[(valuesById[1] = 'ENTRY_CONF_CHANGE')] = 1;
      return values;
    })();

    raft.Entry = (function () {
      const Entry = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      Entry.prototype.term = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      Entry.prototype.index = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      Entry.prototype.type = 0;
      Entry.prototype.data = $util.newBuffer([]);

      Entry.create = function (properties) {
        return new Entry(properties);
      };

      Entry.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (
          m.term != null &&
          $Object.hasOwnProperty.call(m, 'term') &&
          (typeof m.term === 'object' ? m.term.low || m.term.high : m.term !== 0)
        )
          w.uint32(8).uint64(m.term);
        if (
          m.index != null &&
          $Object.hasOwnProperty.call(m, 'index') &&
          (typeof m.index === 'object' ? m.index.low || m.index.high : m.index !== 0)
        )
          w.uint32(16).uint64(m.index);
        if (m.type != null && $Object.hasOwnProperty.call(m, 'type') && m.type !== 0)
          w.uint32(24).int32(m.type);
        if (m.data != null && $Object.hasOwnProperty.call(m, 'data') && m.data.length)
          w.uint32(34).bytes(m.data);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      Entry.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.Entry();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.term = v;
              else delete m.term;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.index = v;
              else delete m.index;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if ((v = r.int32())) m.type = v;
              else delete m.type;
              continue;
            }
            case 4: {
              if (u !== 2) break;
              if ((v = r.bytes()).length) m.data = v;
              else delete m.data;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      Entry.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.term != null && $Object.hasOwnProperty.call(m, 'term')) {
          if (
            !$util.isInteger(m.term) &&
            !(m.term && $util.isInteger(m.term.low) && $util.isInteger(m.term.high))
          )
            return 'term: integer|Long expected';
        }
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (
            !$util.isInteger(m.index) &&
            !(m.index && $util.isInteger(m.index.low) && $util.isInteger(m.index.high))
          )
            return 'index: integer|Long expected';
        }
        if (m.type != null && $Object.hasOwnProperty.call(m, 'type')) {
          if (typeof m.type !== 'number' || (m.type | 0) !== m.type)
            return 'type: enum value expected';
        }
        if (m.data != null && $Object.hasOwnProperty.call(m, 'data')) {
          if (!((m.data && typeof m.data.length === 'number') || $util.isString(m.data)))
            return 'data: buffer expected';
        }
        return null;
      };

      Entry.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.Entry) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.raft.Entry: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.Entry();
        if (d.term != null) {
          if (typeof d.term === 'object' ? d.term.low || d.term.high : $Number(d.term) !== 0) {
            if ($util.Long) m.term = $util.Long.fromValue(d.term, true);
            else if (typeof d.term === 'string') m.term = $parseInt(d.term, 10);
            else if (typeof d.term === 'number') m.term = d.term;
            else if (typeof d.term === 'object')
              m.term = new $util.LongBits(d.term.low >>> 0, d.term.high >>> 0).toNumber(true);
          }
        }
        if (d.index != null) {
          if (typeof d.index === 'object' ? d.index.low || d.index.high : $Number(d.index) !== 0) {
            if ($util.Long) m.index = $util.Long.fromValue(d.index, true);
            else if (typeof d.index === 'string') m.index = $parseInt(d.index, 10);
            else if (typeof d.index === 'number') m.index = d.index;
            else if (typeof d.index === 'object')
              m.index = new $util.LongBits(d.index.low >>> 0, d.index.high >>> 0).toNumber(true);
          }
        }
        if (
          d.type !== 0 &&
          (typeof d.type !== 'string' || $root.ballast.raft.EntryType[d.type] !== 0)
        ) {
          switch (d.type) {
            case 'ENTRY_NORMAL':
            case 0:
              m.type = 0;
              break;
            case 'ENTRY_CONF_CHANGE':
            case 1:
              m.type = 1;
              break;
            default:
              if (typeof d.type === 'number' && (d.type | 0) === d.type) m.type = d.type;
          }
        }
        if (d.data != null) {
          if (d.data.length) {
            if (typeof d.data === 'string')
              $util.base64.decode(
                d.data,
                (m.data = $util.newBuffer($util.base64.length(d.data))),
                0,
              );
            else if (d.data.length >= 0) m.data = d.data;
          }
        }
        return m;
      };

      Entry.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.term =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.term =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.index =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.index =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.type = o.enums === $String ? 'ENTRY_NORMAL' : 0;
          if (o.bytes === $String) d.data = '';
          else {
            d.data = [];
            if (o.bytes !== $Array) d.data = $util.newBuffer(d.data);
          }
        }
        if (m.term != null && $Object.hasOwnProperty.call(m, 'term')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.term =
              typeof m.term === 'number'
                ? $BigInt(m.term)
                : $util.Long.fromBits(m.term.low >>> 0, m.term.high >>> 0, true).toBigInt();
          else if (typeof m.term === 'number')
            d.term = o.longs === $String ? $String(m.term) : m.term;
          else
            d.term =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.term)
                : o.longs === $Number
                  ? new $util.LongBits(m.term.low >>> 0, m.term.high >>> 0).toNumber(true)
                  : m.term;
        }
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.index =
              typeof m.index === 'number'
                ? $BigInt(m.index)
                : $util.Long.fromBits(m.index.low >>> 0, m.index.high >>> 0, true).toBigInt();
          else if (typeof m.index === 'number')
            d.index = o.longs === $String ? $String(m.index) : m.index;
          else
            d.index =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.index)
                : o.longs === $Number
                  ? new $util.LongBits(m.index.low >>> 0, m.index.high >>> 0).toNumber(true)
                  : m.index;
        }
        if (m.type != null && $Object.hasOwnProperty.call(m, 'type')) {
          d.type =
            o.enums === $String
              ? $root.ballast.raft.EntryType[m.type] === $undefined
                ? m.type
                : $root.ballast.raft.EntryType[m.type]
              : m.type;
        }
        if (m.data != null && $Object.hasOwnProperty.call(m, 'data')) {
          d.data =
            o.bytes === $String
              ? $util.base64.encode(m.data, 0, m.data.length)
              : o.bytes === $Array
                ? $Array.prototype.slice.call(m.data)
                : m.data;
        }
        return d;
      };

      Entry.prototype.toJSON = function () {
        return Entry.toObject(this, $protobuf.util.toJSONOptions);
      };

      Entry.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.Entry';
      };

      return Entry;
    })();

    raft.ConfChangeType = (function () {
      const valuesById = $Object.create(null),
        values = $Object.create(valuesById);
      values[(valuesById[0] = 'CONF_ADD_VOTER')] = 0;
      values[(valuesById[1] = 'CONF_REMOVE_NODE')] = 1;
      values[(valuesById[2] = 'CONF_ADD_LEARNER')] = 2;
      return values;
    })();

    raft.ConfChange = (function () {
      const ConfChange = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      ConfChange.prototype.type = 0;
      ConfChange.prototype.nodeId = '';
      ConfChange.prototype.context = $util.newBuffer([]);

      ConfChange.create = function (properties) {
        return new ConfChange(properties);
      };

      ConfChange.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.type != null && $Object.hasOwnProperty.call(m, 'type') && m.type !== 0)
          w.uint32(8).int32(m.type);
        if (m.nodeId != null && $Object.hasOwnProperty.call(m, 'nodeId') && m.nodeId !== '')
          w.uint32(18).string(m.nodeId);
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context') && m.context.length)
          w.uint32(26).bytes(m.context);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      ConfChange.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.ConfChange();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.int32())) m.type = v;
              else delete m.type;
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.nodeId = v;
              else delete m.nodeId;
              continue;
            }
            case 3: {
              if (u !== 2) break;
              if ((v = r.bytes()).length) m.context = v;
              else delete m.context;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      ConfChange.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.type != null && $Object.hasOwnProperty.call(m, 'type')) {
          if (typeof m.type !== 'number' || (m.type | 0) !== m.type)
            return 'type: enum value expected';
        }
        if (m.nodeId != null && $Object.hasOwnProperty.call(m, 'nodeId')) {
          if (!$util.isString(m.nodeId)) return 'nodeId: string expected';
        }
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context')) {
          if (!((m.context && typeof m.context.length === 'number') || $util.isString(m.context)))
            return 'context: buffer expected';
        }
        return null;
      };

      ConfChange.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.ConfChange) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.raft.ConfChange: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.ConfChange();
        if (
          d.type !== 0 &&
          (typeof d.type !== 'string' || $root.ballast.raft.ConfChangeType[d.type] !== 0)
        ) {
          switch (d.type) {
            case 'CONF_ADD_VOTER':
            case 0:
              m.type = 0;
              break;
            case 'CONF_REMOVE_NODE':
            case 1:
              m.type = 1;
              break;
            case 'CONF_ADD_LEARNER':
            case 2:
              m.type = 2;
              break;
            default:
              if (typeof d.type === 'number' && (d.type | 0) === d.type) m.type = d.type;
          }
        }
        if (d.nodeId != null) {
          if (typeof d.nodeId !== 'string' || d.nodeId.length) {
            m.nodeId = $String(d.nodeId);
          }
        }
        if (d.context != null) {
          if (d.context.length) {
            if (typeof d.context === 'string')
              $util.base64.decode(
                d.context,
                (m.context = $util.newBuffer($util.base64.length(d.context))),
                0,
              );
            else if (d.context.length >= 0) m.context = d.context;
          }
        }
        return m;
      };

      ConfChange.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.type = o.enums === $String ? 'CONF_ADD_VOTER' : 0;
          d.nodeId = '';
          if (o.bytes === $String) d.context = '';
          else {
            d.context = [];
            if (o.bytes !== $Array) d.context = $util.newBuffer(d.context);
          }
        }
        if (m.type != null && $Object.hasOwnProperty.call(m, 'type')) {
          d.type =
            o.enums === $String
              ? $root.ballast.raft.ConfChangeType[m.type] === $undefined
                ? m.type
                : $root.ballast.raft.ConfChangeType[m.type]
              : m.type;
        }
        if (m.nodeId != null && $Object.hasOwnProperty.call(m, 'nodeId')) {
          d.nodeId = m.nodeId;
        }
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context')) {
          d.context =
            o.bytes === $String
              ? $util.base64.encode(m.context, 0, m.context.length)
              : o.bytes === $Array
                ? $Array.prototype.slice.call(m.context)
                : m.context;
        }
        return d;
      };

      ConfChange.prototype.toJSON = function () {
        return ConfChange.toObject(this, $protobuf.util.toJSONOptions);
      };

      ConfChange.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.ConfChange';
      };

      return ConfChange;
    })();

    raft.ConfState = (function () {
      const ConfState = function (p) {
        this.voters = [];
        this.learners = [];
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      ConfState.prototype.voters = $util.emptyArray;
      ConfState.prototype.learners = $util.emptyArray;

      ConfState.create = function (properties) {
        return new ConfState(properties);
      };

      ConfState.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.voters != null && m.voters.length) {
          for (var i = 0; i < m.voters.length; ++i) w.uint32(10).string(m.voters[i]);
        }
        if (m.learners != null && m.learners.length) {
          for (var i = 0; i < m.learners.length; ++i) w.uint32(18).string(m.learners[i]);
        }
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      ConfState.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.ConfState();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              if (!(m.voters && m.voters.length)) m.voters = [];
              m.voters.push(r.stringVerify());
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if (!(m.learners && m.learners.length)) m.learners = [];
              m.learners.push(r.stringVerify());
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      ConfState.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.voters != null && $Object.hasOwnProperty.call(m, 'voters')) {
          if (!$Array.isArray(m.voters)) return 'voters: array expected';
          for (var i = 0; i < m.voters.length; ++i) {
            if (!$util.isString(m.voters[i])) return 'voters: string[] expected';
          }
        }
        if (m.learners != null && $Object.hasOwnProperty.call(m, 'learners')) {
          if (!$Array.isArray(m.learners)) return 'learners: array expected';
          for (var i = 0; i < m.learners.length; ++i) {
            if (!$util.isString(m.learners[i])) return 'learners: string[] expected';
          }
        }
        return null;
      };

      ConfState.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.ConfState) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.raft.ConfState: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.ConfState();
        if (d.voters) {
          if (!$Array.isArray(d.voters))
            throw $TypeError('.ballast.raft.ConfState.voters: array expected');
          m.voters = $Array(d.voters.length);
          for (var i = 0; i < d.voters.length; ++i) {
            m.voters[i] = $String(d.voters[i]);
          }
        }
        if (d.learners) {
          if (!$Array.isArray(d.learners))
            throw $TypeError('.ballast.raft.ConfState.learners: array expected');
          m.learners = $Array(d.learners.length);
          for (var i = 0; i < d.learners.length; ++i) {
            m.learners[i] = $String(d.learners[i]);
          }
        }
        return m;
      };

      ConfState.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.arrays || o.defaults) {
          d.voters = [];
          d.learners = [];
        }
        if (m.voters && m.voters.length) {
          d.voters = $Array(m.voters.length);
          for (var j = 0; j < m.voters.length; ++j) {
            d.voters[j] = m.voters[j];
          }
        }
        if (m.learners && m.learners.length) {
          d.learners = $Array(m.learners.length);
          for (var j = 0; j < m.learners.length; ++j) {
            d.learners[j] = m.learners[j];
          }
        }
        return d;
      };

      ConfState.prototype.toJSON = function () {
        return ConfState.toObject(this, $protobuf.util.toJSONOptions);
      };

      ConfState.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.ConfState';
      };

      return ConfState;
    })();

    raft.HardState = (function () {
      const HardState = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      HardState.prototype.term = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      HardState.prototype.vote = '';
      HardState.prototype.commit = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;

      HardState.create = function (properties) {
        return new HardState(properties);
      };

      HardState.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (
          m.term != null &&
          $Object.hasOwnProperty.call(m, 'term') &&
          (typeof m.term === 'object' ? m.term.low || m.term.high : m.term !== 0)
        )
          w.uint32(8).uint64(m.term);
        if (m.vote != null && $Object.hasOwnProperty.call(m, 'vote') && m.vote !== '')
          w.uint32(18).string(m.vote);
        if (
          m.commit != null &&
          $Object.hasOwnProperty.call(m, 'commit') &&
          (typeof m.commit === 'object' ? m.commit.low || m.commit.high : m.commit !== 0)
        )
          w.uint32(24).uint64(m.commit);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      HardState.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.HardState();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.term = v;
              else delete m.term;
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.vote = v;
              else delete m.vote;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.commit = v;
              else delete m.commit;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      HardState.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.term != null && $Object.hasOwnProperty.call(m, 'term')) {
          if (
            !$util.isInteger(m.term) &&
            !(m.term && $util.isInteger(m.term.low) && $util.isInteger(m.term.high))
          )
            return 'term: integer|Long expected';
        }
        if (m.vote != null && $Object.hasOwnProperty.call(m, 'vote')) {
          if (!$util.isString(m.vote)) return 'vote: string expected';
        }
        if (m.commit != null && $Object.hasOwnProperty.call(m, 'commit')) {
          if (
            !$util.isInteger(m.commit) &&
            !(m.commit && $util.isInteger(m.commit.low) && $util.isInteger(m.commit.high))
          )
            return 'commit: integer|Long expected';
        }
        return null;
      };

      HardState.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.HardState) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.raft.HardState: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.HardState();
        if (d.term != null) {
          if (typeof d.term === 'object' ? d.term.low || d.term.high : $Number(d.term) !== 0) {
            if ($util.Long) m.term = $util.Long.fromValue(d.term, true);
            else if (typeof d.term === 'string') m.term = $parseInt(d.term, 10);
            else if (typeof d.term === 'number') m.term = d.term;
            else if (typeof d.term === 'object')
              m.term = new $util.LongBits(d.term.low >>> 0, d.term.high >>> 0).toNumber(true);
          }
        }
        if (d.vote != null) {
          if (typeof d.vote !== 'string' || d.vote.length) {
            m.vote = $String(d.vote);
          }
        }
        if (d.commit != null) {
          if (
            typeof d.commit === 'object' ? d.commit.low || d.commit.high : $Number(d.commit) !== 0
          ) {
            if ($util.Long) m.commit = $util.Long.fromValue(d.commit, true);
            else if (typeof d.commit === 'string') m.commit = $parseInt(d.commit, 10);
            else if (typeof d.commit === 'number') m.commit = d.commit;
            else if (typeof d.commit === 'object')
              m.commit = new $util.LongBits(d.commit.low >>> 0, d.commit.high >>> 0).toNumber(true);
          }
        }
        return m;
      };

      HardState.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.term =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.term =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.vote = '';
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.commit =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.commit =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
        }
        if (m.term != null && $Object.hasOwnProperty.call(m, 'term')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.term =
              typeof m.term === 'number'
                ? $BigInt(m.term)
                : $util.Long.fromBits(m.term.low >>> 0, m.term.high >>> 0, true).toBigInt();
          else if (typeof m.term === 'number')
            d.term = o.longs === $String ? $String(m.term) : m.term;
          else
            d.term =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.term)
                : o.longs === $Number
                  ? new $util.LongBits(m.term.low >>> 0, m.term.high >>> 0).toNumber(true)
                  : m.term;
        }
        if (m.vote != null && $Object.hasOwnProperty.call(m, 'vote')) {
          d.vote = m.vote;
        }
        if (m.commit != null && $Object.hasOwnProperty.call(m, 'commit')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.commit =
              typeof m.commit === 'number'
                ? $BigInt(m.commit)
                : $util.Long.fromBits(m.commit.low >>> 0, m.commit.high >>> 0, true).toBigInt();
          else if (typeof m.commit === 'number')
            d.commit = o.longs === $String ? $String(m.commit) : m.commit;
          else
            d.commit =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.commit)
                : o.longs === $Number
                  ? new $util.LongBits(m.commit.low >>> 0, m.commit.high >>> 0).toNumber(true)
                  : m.commit;
        }
        return d;
      };

      HardState.prototype.toJSON = function () {
        return HardState.toObject(this, $protobuf.util.toJSONOptions);
      };

      HardState.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.HardState';
      };

      return HardState;
    })();

    raft.SnapshotMetadata = (function () {
      const SnapshotMetadata = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      SnapshotMetadata.prototype.index = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      SnapshotMetadata.prototype.term = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      SnapshotMetadata.prototype.confState = null;

      SnapshotMetadata.create = function (properties) {
        return new SnapshotMetadata(properties);
      };

      SnapshotMetadata.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (
          m.index != null &&
          $Object.hasOwnProperty.call(m, 'index') &&
          (typeof m.index === 'object' ? m.index.low || m.index.high : m.index !== 0)
        )
          w.uint32(8).uint64(m.index);
        if (
          m.term != null &&
          $Object.hasOwnProperty.call(m, 'term') &&
          (typeof m.term === 'object' ? m.term.low || m.term.high : m.term !== 0)
        )
          w.uint32(16).uint64(m.term);
        if (m.confState != null && $Object.hasOwnProperty.call(m, 'confState'))
          $root.ballast.raft.ConfState.encode(m.confState, w.uint32(26).fork(), q + 1).ldelim();
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      SnapshotMetadata.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.SnapshotMetadata();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.index = v;
              else delete m.index;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.term = v;
              else delete m.term;
              continue;
            }
            case 3: {
              if (u !== 2) break;
              m.confState = $root.ballast.raft.ConfState.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.confState,
              );
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      SnapshotMetadata.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (
            !$util.isInteger(m.index) &&
            !(m.index && $util.isInteger(m.index.low) && $util.isInteger(m.index.high))
          )
            return 'index: integer|Long expected';
        }
        if (m.term != null && $Object.hasOwnProperty.call(m, 'term')) {
          if (
            !$util.isInteger(m.term) &&
            !(m.term && $util.isInteger(m.term.low) && $util.isInteger(m.term.high))
          )
            return 'term: integer|Long expected';
        }
        if (m.confState != null && $Object.hasOwnProperty.call(m, 'confState')) {
          {
            var e = $root.ballast.raft.ConfState.verify(m.confState, q + 1);
            if (e) return 'confState.' + e;
          }
        }
        return null;
      };

      SnapshotMetadata.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.SnapshotMetadata) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.raft.SnapshotMetadata: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.SnapshotMetadata();
        if (d.index != null) {
          if (typeof d.index === 'object' ? d.index.low || d.index.high : $Number(d.index) !== 0) {
            if ($util.Long) m.index = $util.Long.fromValue(d.index, true);
            else if (typeof d.index === 'string') m.index = $parseInt(d.index, 10);
            else if (typeof d.index === 'number') m.index = d.index;
            else if (typeof d.index === 'object')
              m.index = new $util.LongBits(d.index.low >>> 0, d.index.high >>> 0).toNumber(true);
          }
        }
        if (d.term != null) {
          if (typeof d.term === 'object' ? d.term.low || d.term.high : $Number(d.term) !== 0) {
            if ($util.Long) m.term = $util.Long.fromValue(d.term, true);
            else if (typeof d.term === 'string') m.term = $parseInt(d.term, 10);
            else if (typeof d.term === 'number') m.term = d.term;
            else if (typeof d.term === 'object')
              m.term = new $util.LongBits(d.term.low >>> 0, d.term.high >>> 0).toNumber(true);
          }
        }
        if (d.confState != null) {
          if (!$util.isObject(d.confState))
            throw $TypeError('.ballast.raft.SnapshotMetadata.confState: object expected');
          m.confState = $root.ballast.raft.ConfState.fromObject(d.confState, q + 1);
        }
        return m;
      };

      SnapshotMetadata.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.index =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.index =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.term =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.term =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.confState = null;
        }
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.index =
              typeof m.index === 'number'
                ? $BigInt(m.index)
                : $util.Long.fromBits(m.index.low >>> 0, m.index.high >>> 0, true).toBigInt();
          else if (typeof m.index === 'number')
            d.index = o.longs === $String ? $String(m.index) : m.index;
          else
            d.index =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.index)
                : o.longs === $Number
                  ? new $util.LongBits(m.index.low >>> 0, m.index.high >>> 0).toNumber(true)
                  : m.index;
        }
        if (m.term != null && $Object.hasOwnProperty.call(m, 'term')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.term =
              typeof m.term === 'number'
                ? $BigInt(m.term)
                : $util.Long.fromBits(m.term.low >>> 0, m.term.high >>> 0, true).toBigInt();
          else if (typeof m.term === 'number')
            d.term = o.longs === $String ? $String(m.term) : m.term;
          else
            d.term =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.term)
                : o.longs === $Number
                  ? new $util.LongBits(m.term.low >>> 0, m.term.high >>> 0).toNumber(true)
                  : m.term;
        }
        if (m.confState != null && $Object.hasOwnProperty.call(m, 'confState')) {
          d.confState = $root.ballast.raft.ConfState.toObject(m.confState, o, q + 1);
        }
        return d;
      };

      SnapshotMetadata.prototype.toJSON = function () {
        return SnapshotMetadata.toObject(this, $protobuf.util.toJSONOptions);
      };

      SnapshotMetadata.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.SnapshotMetadata';
      };

      return SnapshotMetadata;
    })();

    raft.Snapshot = (function () {
      const Snapshot = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      Snapshot.prototype.metadata = null;
      Snapshot.prototype.data = $util.newBuffer([]);

      Snapshot.create = function (properties) {
        return new Snapshot(properties);
      };

      Snapshot.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.metadata != null && $Object.hasOwnProperty.call(m, 'metadata'))
          $root.ballast.raft.SnapshotMetadata.encode(
            m.metadata,
            w.uint32(10).fork(),
            q + 1,
          ).ldelim();
        if (m.data != null && $Object.hasOwnProperty.call(m, 'data') && m.data.length)
          w.uint32(18).bytes(m.data);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      Snapshot.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.Snapshot();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              m.metadata = $root.ballast.raft.SnapshotMetadata.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.metadata,
              );
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if ((v = r.bytes()).length) m.data = v;
              else delete m.data;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      Snapshot.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.metadata != null && $Object.hasOwnProperty.call(m, 'metadata')) {
          {
            var e = $root.ballast.raft.SnapshotMetadata.verify(m.metadata, q + 1);
            if (e) return 'metadata.' + e;
          }
        }
        if (m.data != null && $Object.hasOwnProperty.call(m, 'data')) {
          if (!((m.data && typeof m.data.length === 'number') || $util.isString(m.data)))
            return 'data: buffer expected';
        }
        return null;
      };

      Snapshot.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.Snapshot) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.raft.Snapshot: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.Snapshot();
        if (d.metadata != null) {
          if (!$util.isObject(d.metadata))
            throw $TypeError('.ballast.raft.Snapshot.metadata: object expected');
          m.metadata = $root.ballast.raft.SnapshotMetadata.fromObject(d.metadata, q + 1);
        }
        if (d.data != null) {
          if (d.data.length) {
            if (typeof d.data === 'string')
              $util.base64.decode(
                d.data,
                (m.data = $util.newBuffer($util.base64.length(d.data))),
                0,
              );
            else if (d.data.length >= 0) m.data = d.data;
          }
        }
        return m;
      };

      Snapshot.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.metadata = null;
          if (o.bytes === $String) d.data = '';
          else {
            d.data = [];
            if (o.bytes !== $Array) d.data = $util.newBuffer(d.data);
          }
        }
        if (m.metadata != null && $Object.hasOwnProperty.call(m, 'metadata')) {
          d.metadata = $root.ballast.raft.SnapshotMetadata.toObject(m.metadata, o, q + 1);
        }
        if (m.data != null && $Object.hasOwnProperty.call(m, 'data')) {
          d.data =
            o.bytes === $String
              ? $util.base64.encode(m.data, 0, m.data.length)
              : o.bytes === $Array
                ? $Array.prototype.slice.call(m.data)
                : m.data;
        }
        return d;
      };

      Snapshot.prototype.toJSON = function () {
        return Snapshot.toObject(this, $protobuf.util.toJSONOptions);
      };

      Snapshot.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.Snapshot';
      };

      return Snapshot;
    })();

    raft.RequestVote = (function () {
      const RequestVote = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      RequestVote.prototype.lastLogIndex = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      RequestVote.prototype.lastLogTerm = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      RequestVote.prototype.preVote = false;
      RequestVote.prototype.leaderTransfer = false;

      RequestVote.create = function (properties) {
        return new RequestVote(properties);
      };

      RequestVote.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (
          m.lastLogIndex != null &&
          $Object.hasOwnProperty.call(m, 'lastLogIndex') &&
          (typeof m.lastLogIndex === 'object'
            ? m.lastLogIndex.low || m.lastLogIndex.high
            : m.lastLogIndex !== 0)
        )
          w.uint32(8).uint64(m.lastLogIndex);
        if (
          m.lastLogTerm != null &&
          $Object.hasOwnProperty.call(m, 'lastLogTerm') &&
          (typeof m.lastLogTerm === 'object'
            ? m.lastLogTerm.low || m.lastLogTerm.high
            : m.lastLogTerm !== 0)
        )
          w.uint32(16).uint64(m.lastLogTerm);
        if (m.preVote != null && $Object.hasOwnProperty.call(m, 'preVote') && m.preVote !== false)
          w.uint32(24).bool(m.preVote);
        if (
          m.leaderTransfer != null &&
          $Object.hasOwnProperty.call(m, 'leaderTransfer') &&
          m.leaderTransfer !== false
        )
          w.uint32(32).bool(m.leaderTransfer);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      RequestVote.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.RequestVote();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.lastLogIndex = v;
              else delete m.lastLogIndex;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.lastLogTerm = v;
              else delete m.lastLogTerm;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if ((v = r.bool())) m.preVote = v;
              else delete m.preVote;
              continue;
            }
            case 4: {
              if (u !== 0) break;
              if ((v = r.bool())) m.leaderTransfer = v;
              else delete m.leaderTransfer;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      RequestVote.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.lastLogIndex != null && $Object.hasOwnProperty.call(m, 'lastLogIndex')) {
          if (
            !$util.isInteger(m.lastLogIndex) &&
            !(
              m.lastLogIndex &&
              $util.isInteger(m.lastLogIndex.low) &&
              $util.isInteger(m.lastLogIndex.high)
            )
          )
            return 'lastLogIndex: integer|Long expected';
        }
        if (m.lastLogTerm != null && $Object.hasOwnProperty.call(m, 'lastLogTerm')) {
          if (
            !$util.isInteger(m.lastLogTerm) &&
            !(
              m.lastLogTerm &&
              $util.isInteger(m.lastLogTerm.low) &&
              $util.isInteger(m.lastLogTerm.high)
            )
          )
            return 'lastLogTerm: integer|Long expected';
        }
        if (m.preVote != null && $Object.hasOwnProperty.call(m, 'preVote')) {
          if (typeof m.preVote !== 'boolean') return 'preVote: boolean expected';
        }
        if (m.leaderTransfer != null && $Object.hasOwnProperty.call(m, 'leaderTransfer')) {
          if (typeof m.leaderTransfer !== 'boolean') return 'leaderTransfer: boolean expected';
        }
        return null;
      };

      RequestVote.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.RequestVote) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.raft.RequestVote: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.RequestVote();
        if (d.lastLogIndex != null) {
          if (
            typeof d.lastLogIndex === 'object'
              ? d.lastLogIndex.low || d.lastLogIndex.high
              : $Number(d.lastLogIndex) !== 0
          ) {
            if ($util.Long) m.lastLogIndex = $util.Long.fromValue(d.lastLogIndex, true);
            else if (typeof d.lastLogIndex === 'string')
              m.lastLogIndex = $parseInt(d.lastLogIndex, 10);
            else if (typeof d.lastLogIndex === 'number') m.lastLogIndex = d.lastLogIndex;
            else if (typeof d.lastLogIndex === 'object')
              m.lastLogIndex = new $util.LongBits(
                d.lastLogIndex.low >>> 0,
                d.lastLogIndex.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.lastLogTerm != null) {
          if (
            typeof d.lastLogTerm === 'object'
              ? d.lastLogTerm.low || d.lastLogTerm.high
              : $Number(d.lastLogTerm) !== 0
          ) {
            if ($util.Long) m.lastLogTerm = $util.Long.fromValue(d.lastLogTerm, true);
            else if (typeof d.lastLogTerm === 'string')
              m.lastLogTerm = $parseInt(d.lastLogTerm, 10);
            else if (typeof d.lastLogTerm === 'number') m.lastLogTerm = d.lastLogTerm;
            else if (typeof d.lastLogTerm === 'object')
              m.lastLogTerm = new $util.LongBits(
                d.lastLogTerm.low >>> 0,
                d.lastLogTerm.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.preVote != null) {
          if (d.preVote) {
            m.preVote = $Boolean(d.preVote);
          }
        }
        if (d.leaderTransfer != null) {
          if (d.leaderTransfer) {
            m.leaderTransfer = $Boolean(d.leaderTransfer);
          }
        }
        return m;
      };

      RequestVote.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.lastLogIndex =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.lastLogIndex =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.lastLogTerm =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.lastLogTerm =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.preVote = false;
          d.leaderTransfer = false;
        }
        if (m.lastLogIndex != null && $Object.hasOwnProperty.call(m, 'lastLogIndex')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.lastLogIndex =
              typeof m.lastLogIndex === 'number'
                ? $BigInt(m.lastLogIndex)
                : $util.Long.fromBits(
                    m.lastLogIndex.low >>> 0,
                    m.lastLogIndex.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.lastLogIndex === 'number')
            d.lastLogIndex = o.longs === $String ? $String(m.lastLogIndex) : m.lastLogIndex;
          else
            d.lastLogIndex =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.lastLogIndex)
                : o.longs === $Number
                  ? new $util.LongBits(
                      m.lastLogIndex.low >>> 0,
                      m.lastLogIndex.high >>> 0,
                    ).toNumber(true)
                  : m.lastLogIndex;
        }
        if (m.lastLogTerm != null && $Object.hasOwnProperty.call(m, 'lastLogTerm')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.lastLogTerm =
              typeof m.lastLogTerm === 'number'
                ? $BigInt(m.lastLogTerm)
                : $util.Long.fromBits(
                    m.lastLogTerm.low >>> 0,
                    m.lastLogTerm.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.lastLogTerm === 'number')
            d.lastLogTerm = o.longs === $String ? $String(m.lastLogTerm) : m.lastLogTerm;
          else
            d.lastLogTerm =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.lastLogTerm)
                : o.longs === $Number
                  ? new $util.LongBits(m.lastLogTerm.low >>> 0, m.lastLogTerm.high >>> 0).toNumber(
                      true,
                    )
                  : m.lastLogTerm;
        }
        if (m.preVote != null && $Object.hasOwnProperty.call(m, 'preVote')) {
          d.preVote = m.preVote;
        }
        if (m.leaderTransfer != null && $Object.hasOwnProperty.call(m, 'leaderTransfer')) {
          d.leaderTransfer = m.leaderTransfer;
        }
        return d;
      };

      RequestVote.prototype.toJSON = function () {
        return RequestVote.toObject(this, $protobuf.util.toJSONOptions);
      };

      RequestVote.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.RequestVote';
      };

      return RequestVote;
    })();

    raft.RequestVoteResponse = (function () {
      const RequestVoteResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      RequestVoteResponse.prototype.granted = false;
      RequestVoteResponse.prototype.preVote = false;

      RequestVoteResponse.create = function (properties) {
        return new RequestVoteResponse(properties);
      };

      RequestVoteResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.granted != null && $Object.hasOwnProperty.call(m, 'granted') && m.granted !== false)
          w.uint32(8).bool(m.granted);
        if (m.preVote != null && $Object.hasOwnProperty.call(m, 'preVote') && m.preVote !== false)
          w.uint32(16).bool(m.preVote);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      RequestVoteResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.RequestVoteResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.bool())) m.granted = v;
              else delete m.granted;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if ((v = r.bool())) m.preVote = v;
              else delete m.preVote;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      RequestVoteResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.granted != null && $Object.hasOwnProperty.call(m, 'granted')) {
          if (typeof m.granted !== 'boolean') return 'granted: boolean expected';
        }
        if (m.preVote != null && $Object.hasOwnProperty.call(m, 'preVote')) {
          if (typeof m.preVote !== 'boolean') return 'preVote: boolean expected';
        }
        return null;
      };

      RequestVoteResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.RequestVoteResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.raft.RequestVoteResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.RequestVoteResponse();
        if (d.granted != null) {
          if (d.granted) {
            m.granted = $Boolean(d.granted);
          }
        }
        if (d.preVote != null) {
          if (d.preVote) {
            m.preVote = $Boolean(d.preVote);
          }
        }
        return m;
      };

      RequestVoteResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.granted = false;
          d.preVote = false;
        }
        if (m.granted != null && $Object.hasOwnProperty.call(m, 'granted')) {
          d.granted = m.granted;
        }
        if (m.preVote != null && $Object.hasOwnProperty.call(m, 'preVote')) {
          d.preVote = m.preVote;
        }
        return d;
      };

      RequestVoteResponse.prototype.toJSON = function () {
        return RequestVoteResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      RequestVoteResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.RequestVoteResponse';
      };

      return RequestVoteResponse;
    })();

    raft.AppendEntries = (function () {
      const AppendEntries = function (p) {
        this.entries = [];
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      AppendEntries.prototype.prevLogIndex = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      AppendEntries.prototype.prevLogTerm = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      AppendEntries.prototype.entries = $util.emptyArray;
      AppendEntries.prototype.leaderCommit = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;

      AppendEntries.create = function (properties) {
        return new AppendEntries(properties);
      };

      AppendEntries.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (
          m.prevLogIndex != null &&
          $Object.hasOwnProperty.call(m, 'prevLogIndex') &&
          (typeof m.prevLogIndex === 'object'
            ? m.prevLogIndex.low || m.prevLogIndex.high
            : m.prevLogIndex !== 0)
        )
          w.uint32(8).uint64(m.prevLogIndex);
        if (
          m.prevLogTerm != null &&
          $Object.hasOwnProperty.call(m, 'prevLogTerm') &&
          (typeof m.prevLogTerm === 'object'
            ? m.prevLogTerm.low || m.prevLogTerm.high
            : m.prevLogTerm !== 0)
        )
          w.uint32(16).uint64(m.prevLogTerm);
        if (m.entries != null && m.entries.length) {
          for (var i = 0; i < m.entries.length; ++i)
            $root.ballast.raft.Entry.encode(m.entries[i], w.uint32(26).fork(), q + 1).ldelim();
        }
        if (
          m.leaderCommit != null &&
          $Object.hasOwnProperty.call(m, 'leaderCommit') &&
          (typeof m.leaderCommit === 'object'
            ? m.leaderCommit.low || m.leaderCommit.high
            : m.leaderCommit !== 0)
        )
          w.uint32(32).uint64(m.leaderCommit);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      AppendEntries.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.AppendEntries();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.prevLogIndex = v;
              else delete m.prevLogIndex;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.prevLogTerm = v;
              else delete m.prevLogTerm;
              continue;
            }
            case 3: {
              if (u !== 2) break;
              if (!(m.entries && m.entries.length)) m.entries = [];
              m.entries.push($root.ballast.raft.Entry.decode(r, r.size(), $undefined, q + 1));
              continue;
            }
            case 4: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.leaderCommit = v;
              else delete m.leaderCommit;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      AppendEntries.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.prevLogIndex != null && $Object.hasOwnProperty.call(m, 'prevLogIndex')) {
          if (
            !$util.isInteger(m.prevLogIndex) &&
            !(
              m.prevLogIndex &&
              $util.isInteger(m.prevLogIndex.low) &&
              $util.isInteger(m.prevLogIndex.high)
            )
          )
            return 'prevLogIndex: integer|Long expected';
        }
        if (m.prevLogTerm != null && $Object.hasOwnProperty.call(m, 'prevLogTerm')) {
          if (
            !$util.isInteger(m.prevLogTerm) &&
            !(
              m.prevLogTerm &&
              $util.isInteger(m.prevLogTerm.low) &&
              $util.isInteger(m.prevLogTerm.high)
            )
          )
            return 'prevLogTerm: integer|Long expected';
        }
        if (m.entries != null && $Object.hasOwnProperty.call(m, 'entries')) {
          if (!$Array.isArray(m.entries)) return 'entries: array expected';
          for (var i = 0; i < m.entries.length; ++i) {
            {
              var e = $root.ballast.raft.Entry.verify(m.entries[i], q + 1);
              if (e) return 'entries.' + e;
            }
          }
        }
        if (m.leaderCommit != null && $Object.hasOwnProperty.call(m, 'leaderCommit')) {
          if (
            !$util.isInteger(m.leaderCommit) &&
            !(
              m.leaderCommit &&
              $util.isInteger(m.leaderCommit.low) &&
              $util.isInteger(m.leaderCommit.high)
            )
          )
            return 'leaderCommit: integer|Long expected';
        }
        return null;
      };

      AppendEntries.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.AppendEntries) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.raft.AppendEntries: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.AppendEntries();
        if (d.prevLogIndex != null) {
          if (
            typeof d.prevLogIndex === 'object'
              ? d.prevLogIndex.low || d.prevLogIndex.high
              : $Number(d.prevLogIndex) !== 0
          ) {
            if ($util.Long) m.prevLogIndex = $util.Long.fromValue(d.prevLogIndex, true);
            else if (typeof d.prevLogIndex === 'string')
              m.prevLogIndex = $parseInt(d.prevLogIndex, 10);
            else if (typeof d.prevLogIndex === 'number') m.prevLogIndex = d.prevLogIndex;
            else if (typeof d.prevLogIndex === 'object')
              m.prevLogIndex = new $util.LongBits(
                d.prevLogIndex.low >>> 0,
                d.prevLogIndex.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.prevLogTerm != null) {
          if (
            typeof d.prevLogTerm === 'object'
              ? d.prevLogTerm.low || d.prevLogTerm.high
              : $Number(d.prevLogTerm) !== 0
          ) {
            if ($util.Long) m.prevLogTerm = $util.Long.fromValue(d.prevLogTerm, true);
            else if (typeof d.prevLogTerm === 'string')
              m.prevLogTerm = $parseInt(d.prevLogTerm, 10);
            else if (typeof d.prevLogTerm === 'number') m.prevLogTerm = d.prevLogTerm;
            else if (typeof d.prevLogTerm === 'object')
              m.prevLogTerm = new $util.LongBits(
                d.prevLogTerm.low >>> 0,
                d.prevLogTerm.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.entries) {
          if (!$Array.isArray(d.entries))
            throw $TypeError('.ballast.raft.AppendEntries.entries: array expected');
          m.entries = $Array(d.entries.length);
          for (var i = 0; i < d.entries.length; ++i) {
            if (!$util.isObject(d.entries[i]))
              throw $TypeError('.ballast.raft.AppendEntries.entries: object expected');
            m.entries[i] = $root.ballast.raft.Entry.fromObject(d.entries[i], q + 1);
          }
        }
        if (d.leaderCommit != null) {
          if (
            typeof d.leaderCommit === 'object'
              ? d.leaderCommit.low || d.leaderCommit.high
              : $Number(d.leaderCommit) !== 0
          ) {
            if ($util.Long) m.leaderCommit = $util.Long.fromValue(d.leaderCommit, true);
            else if (typeof d.leaderCommit === 'string')
              m.leaderCommit = $parseInt(d.leaderCommit, 10);
            else if (typeof d.leaderCommit === 'number') m.leaderCommit = d.leaderCommit;
            else if (typeof d.leaderCommit === 'object')
              m.leaderCommit = new $util.LongBits(
                d.leaderCommit.low >>> 0,
                d.leaderCommit.high >>> 0,
              ).toNumber(true);
          }
        }
        return m;
      };

      AppendEntries.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.arrays || o.defaults) {
          d.entries = [];
        }
        if (o.defaults) {
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.prevLogIndex =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.prevLogIndex =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.prevLogTerm =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.prevLogTerm =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.leaderCommit =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.leaderCommit =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
        }
        if (m.prevLogIndex != null && $Object.hasOwnProperty.call(m, 'prevLogIndex')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.prevLogIndex =
              typeof m.prevLogIndex === 'number'
                ? $BigInt(m.prevLogIndex)
                : $util.Long.fromBits(
                    m.prevLogIndex.low >>> 0,
                    m.prevLogIndex.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.prevLogIndex === 'number')
            d.prevLogIndex = o.longs === $String ? $String(m.prevLogIndex) : m.prevLogIndex;
          else
            d.prevLogIndex =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.prevLogIndex)
                : o.longs === $Number
                  ? new $util.LongBits(
                      m.prevLogIndex.low >>> 0,
                      m.prevLogIndex.high >>> 0,
                    ).toNumber(true)
                  : m.prevLogIndex;
        }
        if (m.prevLogTerm != null && $Object.hasOwnProperty.call(m, 'prevLogTerm')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.prevLogTerm =
              typeof m.prevLogTerm === 'number'
                ? $BigInt(m.prevLogTerm)
                : $util.Long.fromBits(
                    m.prevLogTerm.low >>> 0,
                    m.prevLogTerm.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.prevLogTerm === 'number')
            d.prevLogTerm = o.longs === $String ? $String(m.prevLogTerm) : m.prevLogTerm;
          else
            d.prevLogTerm =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.prevLogTerm)
                : o.longs === $Number
                  ? new $util.LongBits(m.prevLogTerm.low >>> 0, m.prevLogTerm.high >>> 0).toNumber(
                      true,
                    )
                  : m.prevLogTerm;
        }
        if (m.entries && m.entries.length) {
          d.entries = $Array(m.entries.length);
          for (var j = 0; j < m.entries.length; ++j) {
            d.entries[j] = $root.ballast.raft.Entry.toObject(m.entries[j], o, q + 1);
          }
        }
        if (m.leaderCommit != null && $Object.hasOwnProperty.call(m, 'leaderCommit')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.leaderCommit =
              typeof m.leaderCommit === 'number'
                ? $BigInt(m.leaderCommit)
                : $util.Long.fromBits(
                    m.leaderCommit.low >>> 0,
                    m.leaderCommit.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.leaderCommit === 'number')
            d.leaderCommit = o.longs === $String ? $String(m.leaderCommit) : m.leaderCommit;
          else
            d.leaderCommit =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.leaderCommit)
                : o.longs === $Number
                  ? new $util.LongBits(
                      m.leaderCommit.low >>> 0,
                      m.leaderCommit.high >>> 0,
                    ).toNumber(true)
                  : m.leaderCommit;
        }
        return d;
      };

      AppendEntries.prototype.toJSON = function () {
        return AppendEntries.toObject(this, $protobuf.util.toJSONOptions);
      };

      AppendEntries.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.AppendEntries';
      };

      return AppendEntries;
    })();

    raft.AppendEntriesResponse = (function () {
      const AppendEntriesResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      AppendEntriesResponse.prototype.success = false;
      AppendEntriesResponse.prototype.matchIndex = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      AppendEntriesResponse.prototype.rejectIndex = $util.Long
        ? $util.Long.fromBits(0, 0, true)
        : 0;
      AppendEntriesResponse.prototype.rejectHint = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;

      AppendEntriesResponse.create = function (properties) {
        return new AppendEntriesResponse(properties);
      };

      AppendEntriesResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.success != null && $Object.hasOwnProperty.call(m, 'success') && m.success !== false)
          w.uint32(8).bool(m.success);
        if (
          m.matchIndex != null &&
          $Object.hasOwnProperty.call(m, 'matchIndex') &&
          (typeof m.matchIndex === 'object'
            ? m.matchIndex.low || m.matchIndex.high
            : m.matchIndex !== 0)
        )
          w.uint32(16).uint64(m.matchIndex);
        if (
          m.rejectIndex != null &&
          $Object.hasOwnProperty.call(m, 'rejectIndex') &&
          (typeof m.rejectIndex === 'object'
            ? m.rejectIndex.low || m.rejectIndex.high
            : m.rejectIndex !== 0)
        )
          w.uint32(24).uint64(m.rejectIndex);
        if (
          m.rejectHint != null &&
          $Object.hasOwnProperty.call(m, 'rejectHint') &&
          (typeof m.rejectHint === 'object'
            ? m.rejectHint.low || m.rejectHint.high
            : m.rejectHint !== 0)
        )
          w.uint32(32).uint64(m.rejectHint);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      AppendEntriesResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.AppendEntriesResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if ((v = r.bool())) m.success = v;
              else delete m.success;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.matchIndex = v;
              else delete m.matchIndex;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.rejectIndex = v;
              else delete m.rejectIndex;
              continue;
            }
            case 4: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.rejectHint = v;
              else delete m.rejectHint;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      AppendEntriesResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.success != null && $Object.hasOwnProperty.call(m, 'success')) {
          if (typeof m.success !== 'boolean') return 'success: boolean expected';
        }
        if (m.matchIndex != null && $Object.hasOwnProperty.call(m, 'matchIndex')) {
          if (
            !$util.isInteger(m.matchIndex) &&
            !(
              m.matchIndex &&
              $util.isInteger(m.matchIndex.low) &&
              $util.isInteger(m.matchIndex.high)
            )
          )
            return 'matchIndex: integer|Long expected';
        }
        if (m.rejectIndex != null && $Object.hasOwnProperty.call(m, 'rejectIndex')) {
          if (
            !$util.isInteger(m.rejectIndex) &&
            !(
              m.rejectIndex &&
              $util.isInteger(m.rejectIndex.low) &&
              $util.isInteger(m.rejectIndex.high)
            )
          )
            return 'rejectIndex: integer|Long expected';
        }
        if (m.rejectHint != null && $Object.hasOwnProperty.call(m, 'rejectHint')) {
          if (
            !$util.isInteger(m.rejectHint) &&
            !(
              m.rejectHint &&
              $util.isInteger(m.rejectHint.low) &&
              $util.isInteger(m.rejectHint.high)
            )
          )
            return 'rejectHint: integer|Long expected';
        }
        return null;
      };

      AppendEntriesResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.AppendEntriesResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.raft.AppendEntriesResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.AppendEntriesResponse();
        if (d.success != null) {
          if (d.success) {
            m.success = $Boolean(d.success);
          }
        }
        if (d.matchIndex != null) {
          if (
            typeof d.matchIndex === 'object'
              ? d.matchIndex.low || d.matchIndex.high
              : $Number(d.matchIndex) !== 0
          ) {
            if ($util.Long) m.matchIndex = $util.Long.fromValue(d.matchIndex, true);
            else if (typeof d.matchIndex === 'string') m.matchIndex = $parseInt(d.matchIndex, 10);
            else if (typeof d.matchIndex === 'number') m.matchIndex = d.matchIndex;
            else if (typeof d.matchIndex === 'object')
              m.matchIndex = new $util.LongBits(
                d.matchIndex.low >>> 0,
                d.matchIndex.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.rejectIndex != null) {
          if (
            typeof d.rejectIndex === 'object'
              ? d.rejectIndex.low || d.rejectIndex.high
              : $Number(d.rejectIndex) !== 0
          ) {
            if ($util.Long) m.rejectIndex = $util.Long.fromValue(d.rejectIndex, true);
            else if (typeof d.rejectIndex === 'string')
              m.rejectIndex = $parseInt(d.rejectIndex, 10);
            else if (typeof d.rejectIndex === 'number') m.rejectIndex = d.rejectIndex;
            else if (typeof d.rejectIndex === 'object')
              m.rejectIndex = new $util.LongBits(
                d.rejectIndex.low >>> 0,
                d.rejectIndex.high >>> 0,
              ).toNumber(true);
          }
        }
        if (d.rejectHint != null) {
          if (
            typeof d.rejectHint === 'object'
              ? d.rejectHint.low || d.rejectHint.high
              : $Number(d.rejectHint) !== 0
          ) {
            if ($util.Long) m.rejectHint = $util.Long.fromValue(d.rejectHint, true);
            else if (typeof d.rejectHint === 'string') m.rejectHint = $parseInt(d.rejectHint, 10);
            else if (typeof d.rejectHint === 'number') m.rejectHint = d.rejectHint;
            else if (typeof d.rejectHint === 'object')
              m.rejectHint = new $util.LongBits(
                d.rejectHint.low >>> 0,
                d.rejectHint.high >>> 0,
              ).toNumber(true);
          }
        }
        return m;
      };

      AppendEntriesResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.success = false;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.matchIndex =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.matchIndex =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.rejectIndex =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.rejectIndex =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.rejectHint =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.rejectHint =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
        }
        if (m.success != null && $Object.hasOwnProperty.call(m, 'success')) {
          d.success = m.success;
        }
        if (m.matchIndex != null && $Object.hasOwnProperty.call(m, 'matchIndex')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.matchIndex =
              typeof m.matchIndex === 'number'
                ? $BigInt(m.matchIndex)
                : $util.Long.fromBits(
                    m.matchIndex.low >>> 0,
                    m.matchIndex.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.matchIndex === 'number')
            d.matchIndex = o.longs === $String ? $String(m.matchIndex) : m.matchIndex;
          else
            d.matchIndex =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.matchIndex)
                : o.longs === $Number
                  ? new $util.LongBits(m.matchIndex.low >>> 0, m.matchIndex.high >>> 0).toNumber(
                      true,
                    )
                  : m.matchIndex;
        }
        if (m.rejectIndex != null && $Object.hasOwnProperty.call(m, 'rejectIndex')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.rejectIndex =
              typeof m.rejectIndex === 'number'
                ? $BigInt(m.rejectIndex)
                : $util.Long.fromBits(
                    m.rejectIndex.low >>> 0,
                    m.rejectIndex.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.rejectIndex === 'number')
            d.rejectIndex = o.longs === $String ? $String(m.rejectIndex) : m.rejectIndex;
          else
            d.rejectIndex =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.rejectIndex)
                : o.longs === $Number
                  ? new $util.LongBits(m.rejectIndex.low >>> 0, m.rejectIndex.high >>> 0).toNumber(
                      true,
                    )
                  : m.rejectIndex;
        }
        if (m.rejectHint != null && $Object.hasOwnProperty.call(m, 'rejectHint')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.rejectHint =
              typeof m.rejectHint === 'number'
                ? $BigInt(m.rejectHint)
                : $util.Long.fromBits(
                    m.rejectHint.low >>> 0,
                    m.rejectHint.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.rejectHint === 'number')
            d.rejectHint = o.longs === $String ? $String(m.rejectHint) : m.rejectHint;
          else
            d.rejectHint =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.rejectHint)
                : o.longs === $Number
                  ? new $util.LongBits(m.rejectHint.low >>> 0, m.rejectHint.high >>> 0).toNumber(
                      true,
                    )
                  : m.rejectHint;
        }
        return d;
      };

      AppendEntriesResponse.prototype.toJSON = function () {
        return AppendEntriesResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      AppendEntriesResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.AppendEntriesResponse';
      };

      return AppendEntriesResponse;
    })();

    raft.Heartbeat = (function () {
      const Heartbeat = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      Heartbeat.prototype.commit = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      Heartbeat.prototype.context = $util.newBuffer([]);

      Heartbeat.create = function (properties) {
        return new Heartbeat(properties);
      };

      Heartbeat.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (
          m.commit != null &&
          $Object.hasOwnProperty.call(m, 'commit') &&
          (typeof m.commit === 'object' ? m.commit.low || m.commit.high : m.commit !== 0)
        )
          w.uint32(8).uint64(m.commit);
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context') && m.context.length)
          w.uint32(18).bytes(m.context);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      Heartbeat.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.Heartbeat();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.commit = v;
              else delete m.commit;
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if ((v = r.bytes()).length) m.context = v;
              else delete m.context;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      Heartbeat.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.commit != null && $Object.hasOwnProperty.call(m, 'commit')) {
          if (
            !$util.isInteger(m.commit) &&
            !(m.commit && $util.isInteger(m.commit.low) && $util.isInteger(m.commit.high))
          )
            return 'commit: integer|Long expected';
        }
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context')) {
          if (!((m.context && typeof m.context.length === 'number') || $util.isString(m.context)))
            return 'context: buffer expected';
        }
        return null;
      };

      Heartbeat.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.Heartbeat) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.raft.Heartbeat: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.Heartbeat();
        if (d.commit != null) {
          if (
            typeof d.commit === 'object' ? d.commit.low || d.commit.high : $Number(d.commit) !== 0
          ) {
            if ($util.Long) m.commit = $util.Long.fromValue(d.commit, true);
            else if (typeof d.commit === 'string') m.commit = $parseInt(d.commit, 10);
            else if (typeof d.commit === 'number') m.commit = d.commit;
            else if (typeof d.commit === 'object')
              m.commit = new $util.LongBits(d.commit.low >>> 0, d.commit.high >>> 0).toNumber(true);
          }
        }
        if (d.context != null) {
          if (d.context.length) {
            if (typeof d.context === 'string')
              $util.base64.decode(
                d.context,
                (m.context = $util.newBuffer($util.base64.length(d.context))),
                0,
              );
            else if (d.context.length >= 0) m.context = d.context;
          }
        }
        return m;
      };

      Heartbeat.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.commit =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.commit =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if (o.bytes === $String) d.context = '';
          else {
            d.context = [];
            if (o.bytes !== $Array) d.context = $util.newBuffer(d.context);
          }
        }
        if (m.commit != null && $Object.hasOwnProperty.call(m, 'commit')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.commit =
              typeof m.commit === 'number'
                ? $BigInt(m.commit)
                : $util.Long.fromBits(m.commit.low >>> 0, m.commit.high >>> 0, true).toBigInt();
          else if (typeof m.commit === 'number')
            d.commit = o.longs === $String ? $String(m.commit) : m.commit;
          else
            d.commit =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.commit)
                : o.longs === $Number
                  ? new $util.LongBits(m.commit.low >>> 0, m.commit.high >>> 0).toNumber(true)
                  : m.commit;
        }
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context')) {
          d.context =
            o.bytes === $String
              ? $util.base64.encode(m.context, 0, m.context.length)
              : o.bytes === $Array
                ? $Array.prototype.slice.call(m.context)
                : m.context;
        }
        return d;
      };

      Heartbeat.prototype.toJSON = function () {
        return Heartbeat.toObject(this, $protobuf.util.toJSONOptions);
      };

      Heartbeat.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.Heartbeat';
      };

      return Heartbeat;
    })();

    raft.HeartbeatResponse = (function () {
      const HeartbeatResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      HeartbeatResponse.prototype.context = $util.newBuffer([]);

      HeartbeatResponse.create = function (properties) {
        return new HeartbeatResponse(properties);
      };

      HeartbeatResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context') && m.context.length)
          w.uint32(10).bytes(m.context);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      HeartbeatResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.HeartbeatResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              if ((v = r.bytes()).length) m.context = v;
              else delete m.context;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      HeartbeatResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context')) {
          if (!((m.context && typeof m.context.length === 'number') || $util.isString(m.context)))
            return 'context: buffer expected';
        }
        return null;
      };

      HeartbeatResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.HeartbeatResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.raft.HeartbeatResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.HeartbeatResponse();
        if (d.context != null) {
          if (d.context.length) {
            if (typeof d.context === 'string')
              $util.base64.decode(
                d.context,
                (m.context = $util.newBuffer($util.base64.length(d.context))),
                0,
              );
            else if (d.context.length >= 0) m.context = d.context;
          }
        }
        return m;
      };

      HeartbeatResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          if (o.bytes === $String) d.context = '';
          else {
            d.context = [];
            if (o.bytes !== $Array) d.context = $util.newBuffer(d.context);
          }
        }
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context')) {
          d.context =
            o.bytes === $String
              ? $util.base64.encode(m.context, 0, m.context.length)
              : o.bytes === $Array
                ? $Array.prototype.slice.call(m.context)
                : m.context;
        }
        return d;
      };

      HeartbeatResponse.prototype.toJSON = function () {
        return HeartbeatResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      HeartbeatResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.HeartbeatResponse';
      };

      return HeartbeatResponse;
    })();

    raft.InstallSnapshot = (function () {
      const InstallSnapshot = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      InstallSnapshot.prototype.metadata = null;
      InstallSnapshot.prototype.offset = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      InstallSnapshot.prototype.data = $util.newBuffer([]);
      InstallSnapshot.prototype.done = false;

      InstallSnapshot.create = function (properties) {
        return new InstallSnapshot(properties);
      };

      InstallSnapshot.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.metadata != null && $Object.hasOwnProperty.call(m, 'metadata'))
          $root.ballast.raft.SnapshotMetadata.encode(
            m.metadata,
            w.uint32(10).fork(),
            q + 1,
          ).ldelim();
        if (
          m.offset != null &&
          $Object.hasOwnProperty.call(m, 'offset') &&
          (typeof m.offset === 'object' ? m.offset.low || m.offset.high : m.offset !== 0)
        )
          w.uint32(16).uint64(m.offset);
        if (m.data != null && $Object.hasOwnProperty.call(m, 'data') && m.data.length)
          w.uint32(26).bytes(m.data);
        if (m.done != null && $Object.hasOwnProperty.call(m, 'done') && m.done !== false)
          w.uint32(32).bool(m.done);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      InstallSnapshot.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.InstallSnapshot();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              m.metadata = $root.ballast.raft.SnapshotMetadata.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.metadata,
              );
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.offset = v;
              else delete m.offset;
              continue;
            }
            case 3: {
              if (u !== 2) break;
              if ((v = r.bytes()).length) m.data = v;
              else delete m.data;
              continue;
            }
            case 4: {
              if (u !== 0) break;
              if ((v = r.bool())) m.done = v;
              else delete m.done;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      InstallSnapshot.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.metadata != null && $Object.hasOwnProperty.call(m, 'metadata')) {
          {
            var e = $root.ballast.raft.SnapshotMetadata.verify(m.metadata, q + 1);
            if (e) return 'metadata.' + e;
          }
        }
        if (m.offset != null && $Object.hasOwnProperty.call(m, 'offset')) {
          if (
            !$util.isInteger(m.offset) &&
            !(m.offset && $util.isInteger(m.offset.low) && $util.isInteger(m.offset.high))
          )
            return 'offset: integer|Long expected';
        }
        if (m.data != null && $Object.hasOwnProperty.call(m, 'data')) {
          if (!((m.data && typeof m.data.length === 'number') || $util.isString(m.data)))
            return 'data: buffer expected';
        }
        if (m.done != null && $Object.hasOwnProperty.call(m, 'done')) {
          if (typeof m.done !== 'boolean') return 'done: boolean expected';
        }
        return null;
      };

      InstallSnapshot.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.InstallSnapshot) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.raft.InstallSnapshot: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.InstallSnapshot();
        if (d.metadata != null) {
          if (!$util.isObject(d.metadata))
            throw $TypeError('.ballast.raft.InstallSnapshot.metadata: object expected');
          m.metadata = $root.ballast.raft.SnapshotMetadata.fromObject(d.metadata, q + 1);
        }
        if (d.offset != null) {
          if (
            typeof d.offset === 'object' ? d.offset.low || d.offset.high : $Number(d.offset) !== 0
          ) {
            if ($util.Long) m.offset = $util.Long.fromValue(d.offset, true);
            else if (typeof d.offset === 'string') m.offset = $parseInt(d.offset, 10);
            else if (typeof d.offset === 'number') m.offset = d.offset;
            else if (typeof d.offset === 'object')
              m.offset = new $util.LongBits(d.offset.low >>> 0, d.offset.high >>> 0).toNumber(true);
          }
        }
        if (d.data != null) {
          if (d.data.length) {
            if (typeof d.data === 'string')
              $util.base64.decode(
                d.data,
                (m.data = $util.newBuffer($util.base64.length(d.data))),
                0,
              );
            else if (d.data.length >= 0) m.data = d.data;
          }
        }
        if (d.done != null) {
          if (d.done) {
            m.done = $Boolean(d.done);
          }
        }
        return m;
      };

      InstallSnapshot.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.metadata = null;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.offset =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.offset =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if (o.bytes === $String) d.data = '';
          else {
            d.data = [];
            if (o.bytes !== $Array) d.data = $util.newBuffer(d.data);
          }
          d.done = false;
        }
        if (m.metadata != null && $Object.hasOwnProperty.call(m, 'metadata')) {
          d.metadata = $root.ballast.raft.SnapshotMetadata.toObject(m.metadata, o, q + 1);
        }
        if (m.offset != null && $Object.hasOwnProperty.call(m, 'offset')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.offset =
              typeof m.offset === 'number'
                ? $BigInt(m.offset)
                : $util.Long.fromBits(m.offset.low >>> 0, m.offset.high >>> 0, true).toBigInt();
          else if (typeof m.offset === 'number')
            d.offset = o.longs === $String ? $String(m.offset) : m.offset;
          else
            d.offset =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.offset)
                : o.longs === $Number
                  ? new $util.LongBits(m.offset.low >>> 0, m.offset.high >>> 0).toNumber(true)
                  : m.offset;
        }
        if (m.data != null && $Object.hasOwnProperty.call(m, 'data')) {
          d.data =
            o.bytes === $String
              ? $util.base64.encode(m.data, 0, m.data.length)
              : o.bytes === $Array
                ? $Array.prototype.slice.call(m.data)
                : m.data;
        }
        if (m.done != null && $Object.hasOwnProperty.call(m, 'done')) {
          d.done = m.done;
        }
        return d;
      };

      InstallSnapshot.prototype.toJSON = function () {
        return InstallSnapshot.toObject(this, $protobuf.util.toJSONOptions);
      };

      InstallSnapshot.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.InstallSnapshot';
      };

      return InstallSnapshot;
    })();

    raft.InstallSnapshotResponse = (function () {
      const InstallSnapshotResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      InstallSnapshotResponse.prototype.index = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      InstallSnapshotResponse.prototype.success = false;
      InstallSnapshotResponse.prototype.nextOffset = $util.Long
        ? $util.Long.fromBits(0, 0, true)
        : 0;

      InstallSnapshotResponse.create = function (properties) {
        return new InstallSnapshotResponse(properties);
      };

      InstallSnapshotResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (
          m.index != null &&
          $Object.hasOwnProperty.call(m, 'index') &&
          (typeof m.index === 'object' ? m.index.low || m.index.high : m.index !== 0)
        )
          w.uint32(8).uint64(m.index);
        if (m.success != null && $Object.hasOwnProperty.call(m, 'success') && m.success !== false)
          w.uint32(16).bool(m.success);
        if (
          m.nextOffset != null &&
          $Object.hasOwnProperty.call(m, 'nextOffset') &&
          (typeof m.nextOffset === 'object'
            ? m.nextOffset.low || m.nextOffset.high
            : m.nextOffset !== 0)
        )
          w.uint32(24).uint64(m.nextOffset);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      InstallSnapshotResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.InstallSnapshotResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.index = v;
              else delete m.index;
              continue;
            }
            case 2: {
              if (u !== 0) break;
              if ((v = r.bool())) m.success = v;
              else delete m.success;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0)
                m.nextOffset = v;
              else delete m.nextOffset;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      InstallSnapshotResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (
            !$util.isInteger(m.index) &&
            !(m.index && $util.isInteger(m.index.low) && $util.isInteger(m.index.high))
          )
            return 'index: integer|Long expected';
        }
        if (m.success != null && $Object.hasOwnProperty.call(m, 'success')) {
          if (typeof m.success !== 'boolean') return 'success: boolean expected';
        }
        if (m.nextOffset != null && $Object.hasOwnProperty.call(m, 'nextOffset')) {
          if (
            !$util.isInteger(m.nextOffset) &&
            !(
              m.nextOffset &&
              $util.isInteger(m.nextOffset.low) &&
              $util.isInteger(m.nextOffset.high)
            )
          )
            return 'nextOffset: integer|Long expected';
        }
        return null;
      };

      InstallSnapshotResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.InstallSnapshotResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.raft.InstallSnapshotResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.InstallSnapshotResponse();
        if (d.index != null) {
          if (typeof d.index === 'object' ? d.index.low || d.index.high : $Number(d.index) !== 0) {
            if ($util.Long) m.index = $util.Long.fromValue(d.index, true);
            else if (typeof d.index === 'string') m.index = $parseInt(d.index, 10);
            else if (typeof d.index === 'number') m.index = d.index;
            else if (typeof d.index === 'object')
              m.index = new $util.LongBits(d.index.low >>> 0, d.index.high >>> 0).toNumber(true);
          }
        }
        if (d.success != null) {
          if (d.success) {
            m.success = $Boolean(d.success);
          }
        }
        if (d.nextOffset != null) {
          if (
            typeof d.nextOffset === 'object'
              ? d.nextOffset.low || d.nextOffset.high
              : $Number(d.nextOffset) !== 0
          ) {
            if ($util.Long) m.nextOffset = $util.Long.fromValue(d.nextOffset, true);
            else if (typeof d.nextOffset === 'string') m.nextOffset = $parseInt(d.nextOffset, 10);
            else if (typeof d.nextOffset === 'number') m.nextOffset = d.nextOffset;
            else if (typeof d.nextOffset === 'object')
              m.nextOffset = new $util.LongBits(
                d.nextOffset.low >>> 0,
                d.nextOffset.high >>> 0,
              ).toNumber(true);
          }
        }
        return m;
      };

      InstallSnapshotResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.index =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.index =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          d.success = false;
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.nextOffset =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.nextOffset =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
        }
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.index =
              typeof m.index === 'number'
                ? $BigInt(m.index)
                : $util.Long.fromBits(m.index.low >>> 0, m.index.high >>> 0, true).toBigInt();
          else if (typeof m.index === 'number')
            d.index = o.longs === $String ? $String(m.index) : m.index;
          else
            d.index =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.index)
                : o.longs === $Number
                  ? new $util.LongBits(m.index.low >>> 0, m.index.high >>> 0).toNumber(true)
                  : m.index;
        }
        if (m.success != null && $Object.hasOwnProperty.call(m, 'success')) {
          d.success = m.success;
        }
        if (m.nextOffset != null && $Object.hasOwnProperty.call(m, 'nextOffset')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.nextOffset =
              typeof m.nextOffset === 'number'
                ? $BigInt(m.nextOffset)
                : $util.Long.fromBits(
                    m.nextOffset.low >>> 0,
                    m.nextOffset.high >>> 0,
                    true,
                  ).toBigInt();
          else if (typeof m.nextOffset === 'number')
            d.nextOffset = o.longs === $String ? $String(m.nextOffset) : m.nextOffset;
          else
            d.nextOffset =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.nextOffset)
                : o.longs === $Number
                  ? new $util.LongBits(m.nextOffset.low >>> 0, m.nextOffset.high >>> 0).toNumber(
                      true,
                    )
                  : m.nextOffset;
        }
        return d;
      };

      InstallSnapshotResponse.prototype.toJSON = function () {
        return InstallSnapshotResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      InstallSnapshotResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.InstallSnapshotResponse';
      };

      return InstallSnapshotResponse;
    })();

    raft.TimeoutNow = (function () {
      const TimeoutNow = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      TimeoutNow.create = function (properties) {
        return new TimeoutNow(properties);
      };

      TimeoutNow.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      TimeoutNow.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.TimeoutNow();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          r.skipType(t & 7, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      TimeoutNow.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        return null;
      };

      TimeoutNow.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.TimeoutNow) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.raft.TimeoutNow: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        return new $root.ballast.raft.TimeoutNow();
      };

      TimeoutNow.toObject = function () {
        return {};
      };

      TimeoutNow.prototype.toJSON = function () {
        return TimeoutNow.toObject(this, $protobuf.util.toJSONOptions);
      };

      TimeoutNow.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.TimeoutNow';
      };

      return TimeoutNow;
    })();

    raft.ReadIndexRequest = (function () {
      const ReadIndexRequest = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      ReadIndexRequest.prototype.context = $util.newBuffer([]);

      ReadIndexRequest.create = function (properties) {
        return new ReadIndexRequest(properties);
      };

      ReadIndexRequest.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context') && m.context.length)
          w.uint32(10).bytes(m.context);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      ReadIndexRequest.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.ReadIndexRequest();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              if ((v = r.bytes()).length) m.context = v;
              else delete m.context;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      ReadIndexRequest.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context')) {
          if (!((m.context && typeof m.context.length === 'number') || $util.isString(m.context)))
            return 'context: buffer expected';
        }
        return null;
      };

      ReadIndexRequest.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.ReadIndexRequest) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.raft.ReadIndexRequest: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.ReadIndexRequest();
        if (d.context != null) {
          if (d.context.length) {
            if (typeof d.context === 'string')
              $util.base64.decode(
                d.context,
                (m.context = $util.newBuffer($util.base64.length(d.context))),
                0,
              );
            else if (d.context.length >= 0) m.context = d.context;
          }
        }
        return m;
      };

      ReadIndexRequest.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          if (o.bytes === $String) d.context = '';
          else {
            d.context = [];
            if (o.bytes !== $Array) d.context = $util.newBuffer(d.context);
          }
        }
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context')) {
          d.context =
            o.bytes === $String
              ? $util.base64.encode(m.context, 0, m.context.length)
              : o.bytes === $Array
                ? $Array.prototype.slice.call(m.context)
                : m.context;
        }
        return d;
      };

      ReadIndexRequest.prototype.toJSON = function () {
        return ReadIndexRequest.toObject(this, $protobuf.util.toJSONOptions);
      };

      ReadIndexRequest.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.ReadIndexRequest';
      };

      return ReadIndexRequest;
    })();

    raft.ReadIndexResponse = (function () {
      const ReadIndexResponse = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      ReadIndexResponse.prototype.index = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      ReadIndexResponse.prototype.context = $util.newBuffer([]);
      ReadIndexResponse.prototype.ok = false;

      ReadIndexResponse.create = function (properties) {
        return new ReadIndexResponse(properties);
      };

      ReadIndexResponse.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (
          m.index != null &&
          $Object.hasOwnProperty.call(m, 'index') &&
          (typeof m.index === 'object' ? m.index.low || m.index.high : m.index !== 0)
        )
          w.uint32(8).uint64(m.index);
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context') && m.context.length)
          w.uint32(18).bytes(m.context);
        if (m.ok != null && $Object.hasOwnProperty.call(m, 'ok') && m.ok !== false)
          w.uint32(24).bool(m.ok);
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      ReadIndexResponse.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.ReadIndexResponse();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.index = v;
              else delete m.index;
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if ((v = r.bytes()).length) m.context = v;
              else delete m.context;
              continue;
            }
            case 3: {
              if (u !== 0) break;
              if ((v = r.bool())) m.ok = v;
              else delete m.ok;
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      ReadIndexResponse.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (
            !$util.isInteger(m.index) &&
            !(m.index && $util.isInteger(m.index.low) && $util.isInteger(m.index.high))
          )
            return 'index: integer|Long expected';
        }
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context')) {
          if (!((m.context && typeof m.context.length === 'number') || $util.isString(m.context)))
            return 'context: buffer expected';
        }
        if (m.ok != null && $Object.hasOwnProperty.call(m, 'ok')) {
          if (typeof m.ok !== 'boolean') return 'ok: boolean expected';
        }
        return null;
      };

      ReadIndexResponse.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.ReadIndexResponse) return d;
        if (!$util.isObject(d))
          throw $TypeError('.ballast.raft.ReadIndexResponse: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.ReadIndexResponse();
        if (d.index != null) {
          if (typeof d.index === 'object' ? d.index.low || d.index.high : $Number(d.index) !== 0) {
            if ($util.Long) m.index = $util.Long.fromValue(d.index, true);
            else if (typeof d.index === 'string') m.index = $parseInt(d.index, 10);
            else if (typeof d.index === 'number') m.index = d.index;
            else if (typeof d.index === 'object')
              m.index = new $util.LongBits(d.index.low >>> 0, d.index.high >>> 0).toNumber(true);
          }
        }
        if (d.context != null) {
          if (d.context.length) {
            if (typeof d.context === 'string')
              $util.base64.decode(
                d.context,
                (m.context = $util.newBuffer($util.base64.length(d.context))),
                0,
              );
            else if (d.context.length >= 0) m.context = d.context;
          }
        }
        if (d.ok != null) {
          if (d.ok) {
            m.ok = $Boolean(d.ok);
          }
        }
        return m;
      };

      ReadIndexResponse.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.index =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.index =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
          if (o.bytes === $String) d.context = '';
          else {
            d.context = [];
            if (o.bytes !== $Array) d.context = $util.newBuffer(d.context);
          }
          d.ok = false;
        }
        if (m.index != null && $Object.hasOwnProperty.call(m, 'index')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.index =
              typeof m.index === 'number'
                ? $BigInt(m.index)
                : $util.Long.fromBits(m.index.low >>> 0, m.index.high >>> 0, true).toBigInt();
          else if (typeof m.index === 'number')
            d.index = o.longs === $String ? $String(m.index) : m.index;
          else
            d.index =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.index)
                : o.longs === $Number
                  ? new $util.LongBits(m.index.low >>> 0, m.index.high >>> 0).toNumber(true)
                  : m.index;
        }
        if (m.context != null && $Object.hasOwnProperty.call(m, 'context')) {
          d.context =
            o.bytes === $String
              ? $util.base64.encode(m.context, 0, m.context.length)
              : o.bytes === $Array
                ? $Array.prototype.slice.call(m.context)
                : m.context;
        }
        if (m.ok != null && $Object.hasOwnProperty.call(m, 'ok')) {
          d.ok = m.ok;
        }
        return d;
      };

      ReadIndexResponse.prototype.toJSON = function () {
        return ReadIndexResponse.toObject(this, $protobuf.util.toJSONOptions);
      };

      ReadIndexResponse.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.ReadIndexResponse';
      };

      return ReadIndexResponse;
    })();

    raft.RaftMessage = (function () {
      const RaftMessage = function (p) {
        if (p)
          for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
            if (p[ks[i]] != null && ks[i] !== '__proto__') this[ks[i]] = p[ks[i]];
      };

      RaftMessage.prototype.clusterId = '';
      RaftMessage.prototype.from = '';
      RaftMessage.prototype.to = '';
      RaftMessage.prototype.term = $util.Long ? $util.Long.fromBits(0, 0, true) : 0;
      RaftMessage.prototype.requestVote = null;
      RaftMessage.prototype.requestVoteResponse = null;
      RaftMessage.prototype.appendEntries = null;
      RaftMessage.prototype.appendEntriesResponse = null;
      RaftMessage.prototype.heartbeat = null;
      RaftMessage.prototype.heartbeatResponse = null;
      RaftMessage.prototype.installSnapshot = null;
      RaftMessage.prototype.installSnapshotResponse = null;
      RaftMessage.prototype.timeoutNow = null;
      RaftMessage.prototype.readIndex = null;
      RaftMessage.prototype.readIndexResponse = null;

      let $oneOfFields;

      $Object.defineProperty(RaftMessage.prototype, 'body', {
        get: $util.oneOfGetter(
          ($oneOfFields = [
            'requestVote',
            'requestVoteResponse',
            'appendEntries',
            'appendEntriesResponse',
            'heartbeat',
            'heartbeatResponse',
            'installSnapshot',
            'installSnapshotResponse',
            'timeoutNow',
            'readIndex',
            'readIndexResponse',
          ]),
        ),
        set: $util.oneOfSetter($oneOfFields),
      });

      RaftMessage.create = function (properties) {
        return new RaftMessage(properties);
      };

      RaftMessage.encode = function (m, w, q) {
        if (!w) w = $Writer.create();
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        if (
          m.clusterId != null &&
          $Object.hasOwnProperty.call(m, 'clusterId') &&
          m.clusterId !== ''
        )
          w.uint32(10).string(m.clusterId);
        if (m.from != null && $Object.hasOwnProperty.call(m, 'from') && m.from !== '')
          w.uint32(18).string(m.from);
        if (m.to != null && $Object.hasOwnProperty.call(m, 'to') && m.to !== '')
          w.uint32(26).string(m.to);
        if (
          m.term != null &&
          $Object.hasOwnProperty.call(m, 'term') &&
          (typeof m.term === 'object' ? m.term.low || m.term.high : m.term !== 0)
        )
          w.uint32(32).uint64(m.term);
        if (m.requestVote != null && $Object.hasOwnProperty.call(m, 'requestVote'))
          $root.ballast.raft.RequestVote.encode(m.requestVote, w.uint32(82).fork(), q + 1).ldelim();
        if (m.requestVoteResponse != null && $Object.hasOwnProperty.call(m, 'requestVoteResponse'))
          $root.ballast.raft.RequestVoteResponse.encode(
            m.requestVoteResponse,
            w.uint32(90).fork(),
            q + 1,
          ).ldelim();
        if (m.appendEntries != null && $Object.hasOwnProperty.call(m, 'appendEntries'))
          $root.ballast.raft.AppendEntries.encode(
            m.appendEntries,
            w.uint32(98).fork(),
            q + 1,
          ).ldelim();
        if (
          m.appendEntriesResponse != null &&
          $Object.hasOwnProperty.call(m, 'appendEntriesResponse')
        )
          $root.ballast.raft.AppendEntriesResponse.encode(
            m.appendEntriesResponse,
            w.uint32(106).fork(),
            q + 1,
          ).ldelim();
        if (m.heartbeat != null && $Object.hasOwnProperty.call(m, 'heartbeat'))
          $root.ballast.raft.Heartbeat.encode(m.heartbeat, w.uint32(114).fork(), q + 1).ldelim();
        if (m.heartbeatResponse != null && $Object.hasOwnProperty.call(m, 'heartbeatResponse'))
          $root.ballast.raft.HeartbeatResponse.encode(
            m.heartbeatResponse,
            w.uint32(122).fork(),
            q + 1,
          ).ldelim();
        if (m.installSnapshot != null && $Object.hasOwnProperty.call(m, 'installSnapshot'))
          $root.ballast.raft.InstallSnapshot.encode(
            m.installSnapshot,
            w.uint32(130).fork(),
            q + 1,
          ).ldelim();
        if (
          m.installSnapshotResponse != null &&
          $Object.hasOwnProperty.call(m, 'installSnapshotResponse')
        )
          $root.ballast.raft.InstallSnapshotResponse.encode(
            m.installSnapshotResponse,
            w.uint32(138).fork(),
            q + 1,
          ).ldelim();
        if (m.timeoutNow != null && $Object.hasOwnProperty.call(m, 'timeoutNow'))
          $root.ballast.raft.TimeoutNow.encode(m.timeoutNow, w.uint32(146).fork(), q + 1).ldelim();
        if (m.readIndex != null && $Object.hasOwnProperty.call(m, 'readIndex'))
          $root.ballast.raft.ReadIndexRequest.encode(
            m.readIndex,
            w.uint32(154).fork(),
            q + 1,
          ).ldelim();
        if (m.readIndexResponse != null && $Object.hasOwnProperty.call(m, 'readIndexResponse'))
          $root.ballast.raft.ReadIndexResponse.encode(
            m.readIndexResponse,
            w.uint32(162).fork(),
            q + 1,
          ).ldelim();
        if (m.$unknowns != null && $Object.hasOwnProperty.call(m, '$unknowns'))
          for (var i = 0; i < m.$unknowns.length; ++i) w.raw(m.$unknowns[i]);
        return w;
      };

      RaftMessage.decode = function (r, l, z, q, g) {
        if (!(r instanceof $Reader)) r = $Reader.create(r);
        if (q === $undefined) q = 0;
        if (q > $Reader.recursionLimit) throw $Error('max depth exceeded');
        var c, m, v;
        if (l === $undefined) c = r.len;
        else {
          c = r.pos + l;
          if (c > r.len) throw $RangeError('index out of range');
          l = r.len;
          r.len = c;
        }
        m = g || new $root.ballast.raft.RaftMessage();
        while (r.pos < c) {
          var s = r.pos;
          var t = r.tag();
          if (t === z) {
            z = $undefined;
            break;
          }
          var u = t & 7;
          switch ((t >>>= 3)) {
            case 1: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.clusterId = v;
              else delete m.clusterId;
              continue;
            }
            case 2: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.from = v;
              else delete m.from;
              continue;
            }
            case 3: {
              if (u !== 2) break;
              if ((v = r.stringVerify()).length) m.to = v;
              else delete m.to;
              continue;
            }
            case 4: {
              if (u !== 0) break;
              if (typeof (v = r.uint64()) === 'object' ? v.low || v.high : v !== 0) m.term = v;
              else delete m.term;
              continue;
            }
            case 10: {
              if (u !== 2) break;
              m.requestVote = $root.ballast.raft.RequestVote.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.requestVote,
              );
              m.body = 'requestVote';
              continue;
            }
            case 11: {
              if (u !== 2) break;
              m.requestVoteResponse = $root.ballast.raft.RequestVoteResponse.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.requestVoteResponse,
              );
              m.body = 'requestVoteResponse';
              continue;
            }
            case 12: {
              if (u !== 2) break;
              m.appendEntries = $root.ballast.raft.AppendEntries.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.appendEntries,
              );
              m.body = 'appendEntries';
              continue;
            }
            case 13: {
              if (u !== 2) break;
              m.appendEntriesResponse = $root.ballast.raft.AppendEntriesResponse.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.appendEntriesResponse,
              );
              m.body = 'appendEntriesResponse';
              continue;
            }
            case 14: {
              if (u !== 2) break;
              m.heartbeat = $root.ballast.raft.Heartbeat.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.heartbeat,
              );
              m.body = 'heartbeat';
              continue;
            }
            case 15: {
              if (u !== 2) break;
              m.heartbeatResponse = $root.ballast.raft.HeartbeatResponse.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.heartbeatResponse,
              );
              m.body = 'heartbeatResponse';
              continue;
            }
            case 16: {
              if (u !== 2) break;
              m.installSnapshot = $root.ballast.raft.InstallSnapshot.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.installSnapshot,
              );
              m.body = 'installSnapshot';
              continue;
            }
            case 17: {
              if (u !== 2) break;
              m.installSnapshotResponse = $root.ballast.raft.InstallSnapshotResponse.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.installSnapshotResponse,
              );
              m.body = 'installSnapshotResponse';
              continue;
            }
            case 18: {
              if (u !== 2) break;
              m.timeoutNow = $root.ballast.raft.TimeoutNow.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.timeoutNow,
              );
              m.body = 'timeoutNow';
              continue;
            }
            case 19: {
              if (u !== 2) break;
              m.readIndex = $root.ballast.raft.ReadIndexRequest.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.readIndex,
              );
              m.body = 'readIndex';
              continue;
            }
            case 20: {
              if (u !== 2) break;
              m.readIndexResponse = $root.ballast.raft.ReadIndexResponse.decode(
                r,
                r.size(),
                $undefined,
                q + 1,
                m.readIndexResponse,
              );
              m.body = 'readIndexResponse';
              continue;
            }
          }
          r.skipType(u, q, t);
          if (!r.discardUnknown) {
            $util.makeProp(m, '$unknowns', false);
            (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
          }
        }
        if (l !== $undefined) {
          if (r.pos !== c) throw $RangeError('index out of range');
          r.len = l;
        }
        if (z !== $undefined) throw $Error('missing end group');
        return m;
      };

      RaftMessage.verify = function (m, q) {
        if (typeof m !== 'object' || m === null) return 'object expected';
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) return 'max depth exceeded';
        var p = {};
        if (m.clusterId != null && $Object.hasOwnProperty.call(m, 'clusterId')) {
          if (!$util.isString(m.clusterId)) return 'clusterId: string expected';
        }
        if (m.from != null && $Object.hasOwnProperty.call(m, 'from')) {
          if (!$util.isString(m.from)) return 'from: string expected';
        }
        if (m.to != null && $Object.hasOwnProperty.call(m, 'to')) {
          if (!$util.isString(m.to)) return 'to: string expected';
        }
        if (m.term != null && $Object.hasOwnProperty.call(m, 'term')) {
          if (
            !$util.isInteger(m.term) &&
            !(m.term && $util.isInteger(m.term.low) && $util.isInteger(m.term.high))
          )
            return 'term: integer|Long expected';
        }
        if (m.requestVote != null && $Object.hasOwnProperty.call(m, 'requestVote')) {
          p.body = 1;
          {
            var e = $root.ballast.raft.RequestVote.verify(m.requestVote, q + 1);
            if (e) return 'requestVote.' + e;
          }
        }
        if (
          m.requestVoteResponse != null &&
          $Object.hasOwnProperty.call(m, 'requestVoteResponse')
        ) {
          if (p.body === 1) return 'body: multiple values';
          p.body = 1;
          {
            var e = $root.ballast.raft.RequestVoteResponse.verify(m.requestVoteResponse, q + 1);
            if (e) return 'requestVoteResponse.' + e;
          }
        }
        if (m.appendEntries != null && $Object.hasOwnProperty.call(m, 'appendEntries')) {
          if (p.body === 1) return 'body: multiple values';
          p.body = 1;
          {
            var e = $root.ballast.raft.AppendEntries.verify(m.appendEntries, q + 1);
            if (e) return 'appendEntries.' + e;
          }
        }
        if (
          m.appendEntriesResponse != null &&
          $Object.hasOwnProperty.call(m, 'appendEntriesResponse')
        ) {
          if (p.body === 1) return 'body: multiple values';
          p.body = 1;
          {
            var e = $root.ballast.raft.AppendEntriesResponse.verify(m.appendEntriesResponse, q + 1);
            if (e) return 'appendEntriesResponse.' + e;
          }
        }
        if (m.heartbeat != null && $Object.hasOwnProperty.call(m, 'heartbeat')) {
          if (p.body === 1) return 'body: multiple values';
          p.body = 1;
          {
            var e = $root.ballast.raft.Heartbeat.verify(m.heartbeat, q + 1);
            if (e) return 'heartbeat.' + e;
          }
        }
        if (m.heartbeatResponse != null && $Object.hasOwnProperty.call(m, 'heartbeatResponse')) {
          if (p.body === 1) return 'body: multiple values';
          p.body = 1;
          {
            var e = $root.ballast.raft.HeartbeatResponse.verify(m.heartbeatResponse, q + 1);
            if (e) return 'heartbeatResponse.' + e;
          }
        }
        if (m.installSnapshot != null && $Object.hasOwnProperty.call(m, 'installSnapshot')) {
          if (p.body === 1) return 'body: multiple values';
          p.body = 1;
          {
            var e = $root.ballast.raft.InstallSnapshot.verify(m.installSnapshot, q + 1);
            if (e) return 'installSnapshot.' + e;
          }
        }
        if (
          m.installSnapshotResponse != null &&
          $Object.hasOwnProperty.call(m, 'installSnapshotResponse')
        ) {
          if (p.body === 1) return 'body: multiple values';
          p.body = 1;
          {
            var e = $root.ballast.raft.InstallSnapshotResponse.verify(
              m.installSnapshotResponse,
              q + 1,
            );
            if (e) return 'installSnapshotResponse.' + e;
          }
        }
        if (m.timeoutNow != null && $Object.hasOwnProperty.call(m, 'timeoutNow')) {
          if (p.body === 1) return 'body: multiple values';
          p.body = 1;
          {
            var e = $root.ballast.raft.TimeoutNow.verify(m.timeoutNow, q + 1);
            if (e) return 'timeoutNow.' + e;
          }
        }
        if (m.readIndex != null && $Object.hasOwnProperty.call(m, 'readIndex')) {
          if (p.body === 1) return 'body: multiple values';
          p.body = 1;
          {
            var e = $root.ballast.raft.ReadIndexRequest.verify(m.readIndex, q + 1);
            if (e) return 'readIndex.' + e;
          }
        }
        if (m.readIndexResponse != null && $Object.hasOwnProperty.call(m, 'readIndexResponse')) {
          if (p.body === 1) return 'body: multiple values';
          p.body = 1;
          {
            var e = $root.ballast.raft.ReadIndexResponse.verify(m.readIndexResponse, q + 1);
            if (e) return 'readIndexResponse.' + e;
          }
        }
        return null;
      };

      RaftMessage.fromObject = function (d, q) {
        if (d instanceof $root.ballast.raft.RaftMessage) return d;
        if (!$util.isObject(d)) throw $TypeError('.ballast.raft.RaftMessage: object expected');
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var m = new $root.ballast.raft.RaftMessage();
        if (d.clusterId != null) {
          if (typeof d.clusterId !== 'string' || d.clusterId.length) {
            m.clusterId = $String(d.clusterId);
          }
        }
        if (d.from != null) {
          if (typeof d.from !== 'string' || d.from.length) {
            m.from = $String(d.from);
          }
        }
        if (d.to != null) {
          if (typeof d.to !== 'string' || d.to.length) {
            m.to = $String(d.to);
          }
        }
        if (d.term != null) {
          if (typeof d.term === 'object' ? d.term.low || d.term.high : $Number(d.term) !== 0) {
            if ($util.Long) m.term = $util.Long.fromValue(d.term, true);
            else if (typeof d.term === 'string') m.term = $parseInt(d.term, 10);
            else if (typeof d.term === 'number') m.term = d.term;
            else if (typeof d.term === 'object')
              m.term = new $util.LongBits(d.term.low >>> 0, d.term.high >>> 0).toNumber(true);
          }
        }
        if (d.requestVote != null) {
          if (!$util.isObject(d.requestVote))
            throw $TypeError('.ballast.raft.RaftMessage.requestVote: object expected');
          m.requestVote = $root.ballast.raft.RequestVote.fromObject(d.requestVote, q + 1);
        }
        if (d.requestVoteResponse != null) {
          if (!$util.isObject(d.requestVoteResponse))
            throw $TypeError('.ballast.raft.RaftMessage.requestVoteResponse: object expected');
          m.requestVoteResponse = $root.ballast.raft.RequestVoteResponse.fromObject(
            d.requestVoteResponse,
            q + 1,
          );
        }
        if (d.appendEntries != null) {
          if (!$util.isObject(d.appendEntries))
            throw $TypeError('.ballast.raft.RaftMessage.appendEntries: object expected');
          m.appendEntries = $root.ballast.raft.AppendEntries.fromObject(d.appendEntries, q + 1);
        }
        if (d.appendEntriesResponse != null) {
          if (!$util.isObject(d.appendEntriesResponse))
            throw $TypeError('.ballast.raft.RaftMessage.appendEntriesResponse: object expected');
          m.appendEntriesResponse = $root.ballast.raft.AppendEntriesResponse.fromObject(
            d.appendEntriesResponse,
            q + 1,
          );
        }
        if (d.heartbeat != null) {
          if (!$util.isObject(d.heartbeat))
            throw $TypeError('.ballast.raft.RaftMessage.heartbeat: object expected');
          m.heartbeat = $root.ballast.raft.Heartbeat.fromObject(d.heartbeat, q + 1);
        }
        if (d.heartbeatResponse != null) {
          if (!$util.isObject(d.heartbeatResponse))
            throw $TypeError('.ballast.raft.RaftMessage.heartbeatResponse: object expected');
          m.heartbeatResponse = $root.ballast.raft.HeartbeatResponse.fromObject(
            d.heartbeatResponse,
            q + 1,
          );
        }
        if (d.installSnapshot != null) {
          if (!$util.isObject(d.installSnapshot))
            throw $TypeError('.ballast.raft.RaftMessage.installSnapshot: object expected');
          m.installSnapshot = $root.ballast.raft.InstallSnapshot.fromObject(
            d.installSnapshot,
            q + 1,
          );
        }
        if (d.installSnapshotResponse != null) {
          if (!$util.isObject(d.installSnapshotResponse))
            throw $TypeError('.ballast.raft.RaftMessage.installSnapshotResponse: object expected');
          m.installSnapshotResponse = $root.ballast.raft.InstallSnapshotResponse.fromObject(
            d.installSnapshotResponse,
            q + 1,
          );
        }
        if (d.timeoutNow != null) {
          if (!$util.isObject(d.timeoutNow))
            throw $TypeError('.ballast.raft.RaftMessage.timeoutNow: object expected');
          m.timeoutNow = $root.ballast.raft.TimeoutNow.fromObject(d.timeoutNow, q + 1);
        }
        if (d.readIndex != null) {
          if (!$util.isObject(d.readIndex))
            throw $TypeError('.ballast.raft.RaftMessage.readIndex: object expected');
          m.readIndex = $root.ballast.raft.ReadIndexRequest.fromObject(d.readIndex, q + 1);
        }
        if (d.readIndexResponse != null) {
          if (!$util.isObject(d.readIndexResponse))
            throw $TypeError('.ballast.raft.RaftMessage.readIndexResponse: object expected');
          m.readIndexResponse = $root.ballast.raft.ReadIndexResponse.fromObject(
            d.readIndexResponse,
            q + 1,
          );
        }
        return m;
      };

      RaftMessage.toObject = function (m, o, q) {
        if (!o) o = {};
        if (q === $undefined) q = 0;
        if (q > $util.recursionLimit) throw $Error('max depth exceeded');
        var d = {};
        if (o.defaults) {
          d.clusterId = '';
          d.from = '';
          d.to = '';
          if ($util.Long) {
            var n = new $util.Long(0, 0, true);
            d.term =
              o.longs === $String
                ? n.toString()
                : o.longs === $Number
                  ? n.toNumber()
                  : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                    ? n.toBigInt()
                    : n;
          } else
            d.term =
              o.longs === $String
                ? '0'
                : typeof $BigInt !== 'undefined' && o.longs === $BigInt
                  ? $BigInt('0')
                  : 0;
        }
        if (m.clusterId != null && $Object.hasOwnProperty.call(m, 'clusterId')) {
          d.clusterId = m.clusterId;
        }
        if (m.from != null && $Object.hasOwnProperty.call(m, 'from')) {
          d.from = m.from;
        }
        if (m.to != null && $Object.hasOwnProperty.call(m, 'to')) {
          d.to = m.to;
        }
        if (m.term != null && $Object.hasOwnProperty.call(m, 'term')) {
          if (typeof $BigInt !== 'undefined' && o.longs === $BigInt)
            d.term =
              typeof m.term === 'number'
                ? $BigInt(m.term)
                : $util.Long.fromBits(m.term.low >>> 0, m.term.high >>> 0, true).toBigInt();
          else if (typeof m.term === 'number')
            d.term = o.longs === $String ? $String(m.term) : m.term;
          else
            d.term =
              o.longs === $String
                ? $util.Long.prototype.toString.call(m.term)
                : o.longs === $Number
                  ? new $util.LongBits(m.term.low >>> 0, m.term.high >>> 0).toNumber(true)
                  : m.term;
        }
        if (m.requestVote != null && $Object.hasOwnProperty.call(m, 'requestVote')) {
          d.requestVote = $root.ballast.raft.RequestVote.toObject(m.requestVote, o, q + 1);
          if (o.oneofs) d.body = 'requestVote';
        }
        if (
          m.requestVoteResponse != null &&
          $Object.hasOwnProperty.call(m, 'requestVoteResponse')
        ) {
          d.requestVoteResponse = $root.ballast.raft.RequestVoteResponse.toObject(
            m.requestVoteResponse,
            o,
            q + 1,
          );
          if (o.oneofs) d.body = 'requestVoteResponse';
        }
        if (m.appendEntries != null && $Object.hasOwnProperty.call(m, 'appendEntries')) {
          d.appendEntries = $root.ballast.raft.AppendEntries.toObject(m.appendEntries, o, q + 1);
          if (o.oneofs) d.body = 'appendEntries';
        }
        if (
          m.appendEntriesResponse != null &&
          $Object.hasOwnProperty.call(m, 'appendEntriesResponse')
        ) {
          d.appendEntriesResponse = $root.ballast.raft.AppendEntriesResponse.toObject(
            m.appendEntriesResponse,
            o,
            q + 1,
          );
          if (o.oneofs) d.body = 'appendEntriesResponse';
        }
        if (m.heartbeat != null && $Object.hasOwnProperty.call(m, 'heartbeat')) {
          d.heartbeat = $root.ballast.raft.Heartbeat.toObject(m.heartbeat, o, q + 1);
          if (o.oneofs) d.body = 'heartbeat';
        }
        if (m.heartbeatResponse != null && $Object.hasOwnProperty.call(m, 'heartbeatResponse')) {
          d.heartbeatResponse = $root.ballast.raft.HeartbeatResponse.toObject(
            m.heartbeatResponse,
            o,
            q + 1,
          );
          if (o.oneofs) d.body = 'heartbeatResponse';
        }
        if (m.installSnapshot != null && $Object.hasOwnProperty.call(m, 'installSnapshot')) {
          d.installSnapshot = $root.ballast.raft.InstallSnapshot.toObject(
            m.installSnapshot,
            o,
            q + 1,
          );
          if (o.oneofs) d.body = 'installSnapshot';
        }
        if (
          m.installSnapshotResponse != null &&
          $Object.hasOwnProperty.call(m, 'installSnapshotResponse')
        ) {
          d.installSnapshotResponse = $root.ballast.raft.InstallSnapshotResponse.toObject(
            m.installSnapshotResponse,
            o,
            q + 1,
          );
          if (o.oneofs) d.body = 'installSnapshotResponse';
        }
        if (m.timeoutNow != null && $Object.hasOwnProperty.call(m, 'timeoutNow')) {
          d.timeoutNow = $root.ballast.raft.TimeoutNow.toObject(m.timeoutNow, o, q + 1);
          if (o.oneofs) d.body = 'timeoutNow';
        }
        if (m.readIndex != null && $Object.hasOwnProperty.call(m, 'readIndex')) {
          d.readIndex = $root.ballast.raft.ReadIndexRequest.toObject(m.readIndex, o, q + 1);
          if (o.oneofs) d.body = 'readIndex';
        }
        if (m.readIndexResponse != null && $Object.hasOwnProperty.call(m, 'readIndexResponse')) {
          d.readIndexResponse = $root.ballast.raft.ReadIndexResponse.toObject(
            m.readIndexResponse,
            o,
            q + 1,
          );
          if (o.oneofs) d.body = 'readIndexResponse';
        }
        return d;
      };

      RaftMessage.prototype.toJSON = function () {
        return RaftMessage.toObject(this, $protobuf.util.toJSONOptions);
      };

      RaftMessage.getTypeUrl = function (prefix) {
        if (prefix === $undefined) prefix = 'type.googleapis.com';
        return prefix + '/ballast.raft.RaftMessage';
      };

      return RaftMessage;
    })();

    return raft;
  })();

  return ballast;
})());

export { $root as default };
