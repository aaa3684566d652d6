import { expect } from 'chai';
import { failureDetail, MAX_DETAIL_CHARS, redactedLine, secretsOf } from '../../src/delivery/failure-detail.js';

describe('failure details: what a server says about a refused request, fit for one line', function () {
  describe('finds the explanation backends put in their error bodies', function () {
    const cases: [string, string, string][] = [
      ['Splunk HEC', '{"text":"Invalid token","code":4}', 'Invalid token'],
      ['OTLP (google.rpc.Status)', '{"code":3,"message":"invalid log record"}', 'invalid log record'],
      [
        'Elasticsearch',
        '{"error":{"root_cause":[{"type":"x","reason":"root"}],"type":"mapper_parsing_exception","reason":"failed to parse field [status]"},"status":400}',
        'failed to parse field [status]',
      ],
      ['Datadog', '{"errors":["Forbidden: API key not valid"]}', 'Forbidden: API key not valid'],
      [
        'JSON:API errors',
        '{"errors":[{"status":"422","title":"Unprocessable","detail":"payload too old"}]}',
        'payload too old',
      ],
      [
        'Loki (plain text, first line)',
        'entry for stream \'{app="x"}\' has timestamp too old\nmore',
        'entry for stream \'{app="x"}\' has timestamp too old',
      ],
      ['a JSON string', '"quota exceeded"', 'quota exceeded'],
    ];
    for (const [backend, body, detail] of cases) {
      it(backend, function () {
        expect(failureDetail(body, [])).to.equal(detail);
      });
    }
  });

  it('gives nothing for an empty, HTML, unparsable-JSON or message-less body, or one that only repeats the status text', function () {
    expect(failureDetail('', [])).to.equal(undefined);
    expect(failureDetail('  \n', [])).to.equal(undefined);
    expect(failureDetail('<html><body>502 Bad Gateway</body></html>', [])).to.equal(undefined);
    expect(failureDetail('{"text":', [])).to.equal(undefined);
    expect(failureDetail('{"code":4}', [])).to.equal(undefined);
    expect(failureDetail('Service Unavailable', [], 'Service Unavailable')).to.equal(undefined);
  });

  it('strips control characters (terminal escapes included) and collapses whitespace', function () {
    expect(failureDetail('{"message":"bad\\u001b[31m\\tinput\\r\\n  here\\u0000"}', [])).to.equal(
      'bad [31m input here',
    );
  });

  it(`cuts a long explanation to ${MAX_DETAIL_CHARS} characters`, function () {
    const detail = failureDetail(JSON.stringify({ message: 'x'.repeat(1000) }), []) as string;
    expect(detail).to.have.length(MAX_DETAIL_CHARS);
    expect(detail.endsWith('…')).to.equal(true);
  });

  it('masks every credential the request carried, should the server echo it', function () {
    const secrets = secretsOf('https://ops:Pa%24%24word@logs.test/ingest?token=QueryToken1&x=y', {
      authorization: 'Splunk 0d3c-hec-token',
      'dd-api-key': 'dd-key-1234',
      'x-scope-orgid': '1',
    });
    const echo = [
      'auth "Splunk 0d3c-hec-token"',
      'token 0d3c-hec-token',
      'key dd-key-1234',
      'user ops',
      'password Pa$$word / Pa%24%24word',
      'query token=QueryToken1&x=y',
      'value QueryToken1',
      'tenant 1',
    ].join('; ');
    expect(failureDetail(JSON.stringify({ message: echo }), secrets, '')).to.equal(
      'auth "[redacted]"; token [redacted]; key [redacted]; user ops; password [redacted] / [redacted]; ' +
        'query [redacted]; value [redacted]; tenant 1',
    );
  });

  it('masks a secret before cutting, so that no prefix of it survives the cut', function () {
    const secret = 'S3cretValue-0123456789';
    const detail = failureDetail(JSON.stringify({ message: `${'x'.repeat(MAX_DETAIL_CHARS - 5)}${secret}` }), [secret]);
    expect(detail).to.not.include('S3cr');
  });

  it('masks the first part of a secret a cut body ends in, also when the cut split one of its characters', function () {
    const secrets = secretsOf('http://ops:Passwort-f%C3%BCr-alle@logs.test/logs', {});
    const echo = Buffer.from('wrong password: Passwort-für-alle');
    // Cut (as the sender cuts, in bytes) between the two bytes of the ü: the text ends in U+FFFD.
    const body = echo.subarray(0, echo.indexOf(Buffer.from('ü')) + 1).toString();
    const detail = failureDetail(body, secrets, 'Unauthorized', true);
    expect(detail).to.not.include('Passwort');
    expect(detail).to.equal('wrong password: [redacted]');
  });
  describe('masks a credential in the forms a server may echo it in', function () {
    const masked = (text: string, url: string, headers: Record<string, string>): string =>
      redactedLine(text, secretsOf(url, headers));
    const cases: [string, string, Record<string, string>, string][] = [
      [
        'a header value as sent (HTTP drops the spaces at its ends)',
        'bad token TrailingSpace42',
        { 'x-api-key': 'TrailingSpace42 ' },
        'bad token [redacted]',
      ],
      [
        'a token after a leading space',
        'invalid "LeadingHec42"',
        { authorization: 'Splunk  LeadingHec42' },
        'invalid "[redacted]"',
      ],
      [
        'a value holding a tab, before tabs become spaces',
        'denied: Tab\tToken42',
        { 'x-api-key': 'Tab\tToken42' },
        'denied: [redacted]',
      ],
      [
        'percent-encoded, upper or lower case',
        'sig=Sig%2Fabc%3D%3D or sig=Sig%2fabc%3d%3d',
        {},
        'sig=[redacted] or sig=[redacted]',
      ],
      [
        'JSON-escaped, "/" as "\\/"',
        '{"x-api-key":"AbC\\/dEf\\/gh"}',
        { 'x-api-key': 'AbC/dEf/gh' },
        '{"x-api-key":"[redacted]"}',
      ],
      [
        'HTML-escaped',
        'key &quot;Quo&quot;te&amp;42&quot;',
        { 'x-api-key': 'Quo"te&42' },
        'key &quot;[redacted]&quot;',
      ],
      [
        'the user:password a Basic header encodes, and the password',
        'invalid credentials ops:BasicPass42 (BasicPass42)',
        { authorization: `Basic ${Buffer.from('ops:BasicPass42').toString('base64')}` },
        'invalid credentials [redacted] ([redacted])',
      ],
    ];
    for (const [what, text, headers, expected] of cases) {
      it(what, function () {
        expect(masked(text, 'https://logs.test/ingest?sig=Sig/abc==', headers)).to.equal(expected);
      });
    }

    it("a token given as the URL's user name, without a password", function () {
      expect(masked('unknown user UserToken42', 'https://UserToken42@logs.test/ingest', {})).to.equal(
        'unknown user [redacted]',
      );
    });
  });
});
