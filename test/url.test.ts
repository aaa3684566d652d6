import { expect } from 'chai';
import { Logstream, LogstreamTransport } from '../src/index.js';
import { parseServerUrl, redactUrl } from '../src/url.js';

/** The TypeError `action` throws (fails the test when it throws nothing, or something else). */
function typeErrorOf(action: () => unknown): TypeError {
  try {
    action();
  } catch (error) {
    expect(error).to.be.instanceOf(TypeError);
    return error as TypeError;
  }
  throw new Error('expected a TypeError');
}

describe('server URLs', function () {
  describe('validation (option "url" of the transport)', function () {
    it('accepts absolute http: and https: URLs, as strings or URL objects', function () {
      expect(parseServerUrl('http://logs.example.com/api/logs', 'option "url"').url).to.equal(
        'http://logs.example.com/api/logs',
      );
      expect(parseServerUrl(new URL('https://logs.example.com:8443/x?y=1'), 'option "url"').url).to.equal(
        'https://logs.example.com:8443/x?y=1',
      );
      expect(() => new LogstreamTransport({ url: 'https://127.0.0.1:1/logs' })).not.to.throw();
    });

    const rejected: [string, unknown][] = [
      ['an ftp: URL', 'ftp://ada:pw-secret@logs.example.com/logs'],
      ['a file: URL', 'file:///var/log/app'],
      ['garbage', 'pw-secret not a url'],
      ['a relative URL', '/api/logs?pw-secret'],
      ['a host without a scheme', 'logs.example.com/pw-secret'],
      ['an empty string', ''],
      ['a number', 8080],
      ['null', null],
      ['an object', { href: 'http://logs.example.com' }],
    ];
    for (const [label, url] of rejected) {
      it(`rejects ${label} with a TypeError naming the option, never echoing a password`, function () {
        const error = typeErrorOf(() => new LogstreamTransport({ url: url as string }));
        expect(error.message).to.match(/^winston-logstream: option "url" /);
        expect(error.message).not.to.include('pw-secret');
      });
    }

    // got decodes the user info with decodeURIComponent at every request: a "%" not followed by two hex digits made
    // every request fail (ERR_GOT_REQUEST_ERROR), every entry counted as failed, long after construction.
    for (const [label, url] of [
      ['a password with a bare "%"', 'http://ada:50%off-pw-secret@logs.example.com/logs'],
      ['a user name with a bare "%"', 'http://ada%zz:pw-secret@logs.example.com/logs'],
    ]) {
      it(`rejects ${label} (got cannot decode it) with a TypeError, never echoing the password`, function () {
        const error = typeErrorOf(() => new LogstreamTransport({ url }));
        expect(error.message).to.match(/^winston-logstream: option "url" /);
        expect(error.message).to.include('%25');
        expect(error.message).not.to.include('pw-secret');
        expect(typeErrorOf(() => new Logstream().setServer(url)).message).not.to.include('pw-secret');
      });
    }

    it('accepts user info whose "%" is escaped', function () {
      expect(parseServerUrl('http://ada:50%25off@logs.example.com/logs', 'option "url"').displayUrl).to.equal(
        'http://logs.example.com/logs',
      );
    });

    it('says what type it got for a non-string', function () {
      expect(typeErrorOf(() => parseServerUrl(42, 'option "url"')).message).to.equal(
        'winston-logstream: option "url" must be an http(s) URL string or URL, got number',
      );
    });
  });

  describe('redaction for diagnostics', function () {
    it('removes user, password, query string and fragment', function () {
      expect(redactUrl('https://ada:pw-secret@logs.example.com:8443/api/logs?token=abc#frag')).to.equal(
        'https://logs.example.com:8443/api/logs',
      );
      expect(parseServerUrl('http://ada:pw@logs.example.com/x?k=v', 'option "url"')).to.deep.equal({
        url: 'http://ada:pw@logs.example.com/x?k=v',
        displayUrl: 'http://logs.example.com/x',
      });
    });

    it('never echoes an unparsable URL', function () {
      expect(redactUrl('http://ada:pw-secret@[not-a-host/')).to.equal('<invalid URL>');
    });
  });
});
