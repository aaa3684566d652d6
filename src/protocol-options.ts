/**
 * The options of the backend protocols (`protocol: 'otlp' | 'loki' | …`): their public shape, their checks,
 * and the settings and request headers they resolve to.
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { type JsonValue, toJsonValue } from './encoders/json-value.js';
import { PROTOCOLS, type Protocol, type ProtocolSettings } from './encoders/index.js';
import type { OtlpSettings } from './encoders/otlp.js';
import { HEADER_VALUE } from './headers.js';
import { type OtlpEnvironment, readOtlpEnvironment } from './otel-env.js';
import type { ServerTarget } from './url.js';

/** Options of `protocol: 'otlp'` (OTLP/HTTP JSON to a collector's `…/v1/logs`). */
export interface OtlpOptions {
  /**
   * Resource attributes (values of any JSON type), added to and overriding the defaults: the attributes of
   * `OTEL_RESOURCE_ATTRIBUTES`, and `service.name` from `OTEL_SERVICE_NAME`, else the running application's
   * package name (`npm_package_name`, else the nearest `package.json` above the main script), else
   * `unknown_service:node`. Read once, when the transport is made.
   */
  resource?: Record<string, unknown>;
  /** The instrumentation scope of every record. Default `{ name: 'winston-logstream' }`, no version. */
  scope?: {
    /** The scope's name. Default `'winston-logstream'`. */
    name?: string;
    /** The scope's version. Default none. */
    version?: string;
  };
}

/** Options of `protocol: 'loki'` (Loki's push API, `…/loki/api/v1/push`). */
export interface LokiOptions {
  /**
   * Stream labels: `static` labels every entry carries, and `fields`, entry fields promoted to labels of the same
   * name (non-string values as JSON) and left out of the line. Names must be valid Prometheus label names.
   * Default `{ fields: ['level'] }`.
   */
  labels?: {
    /** Labels every entry carries. Default none. */
    static?: Record<string, string>;
    /** Entry fields promoted to labels of the same name. Default `['level']`. */
    fields?: string[];
  };
  /** The tenant, sent as `X-Scope-OrgID` (multi-tenant Loki). Default none. Never appears in diagnostics. */
  tenant?: string;
}

/** Options of `protocol: 'elasticsearch'` (the `_bulk` API of Elasticsearch or OpenSearch). */
export interface ElasticsearchOptions {
  /**
   * The index, alias or data stream documents are created in. Default `'logs-winston-default'`, which
   * Elasticsearch's built-in `logs-*-*` template makes a data stream.
   */
  index?: string;
  /** An API key (the base64 `encoded` form), sent as `Authorization: ApiKey <apiKey>`. Default none. Never appears in diagnostics. */
  apiKey?: string;
}

/** Options of `protocol: 'splunk-hec'` (Splunk's HTTP Event Collector, `…/services/collector/event`). */
export interface SplunkHecOptions {
  /** The HEC token, sent as `Authorization: Splunk <token>`. Required unless `headers` has `Authorization`. Never appears in diagnostics. */
  token?: string;
  /** The events' `host`. Default none (Splunk uses the sender's address). */
  host?: string;
  /** The events' `source`. Default none (the token's default). */
  source?: string;
  /** The events' `sourcetype`. Default none (the token's default, usually `httpevent`); `_json` extracts the event's fields. */
  sourcetype?: string;
  /** The events' `index`. Default none (the token's default index). */
  index?: string;
}

/** Options of `protocol: 'datadog'` (the logs intake v2, `https://http-intake.logs.<site>/api/v2/logs`). */
export interface DatadogOptions {
  /** The API key, sent as `DD-API-KEY`. Required unless `headers` has `DD-API-KEY`. Never appears in diagnostics. */
  apiKey?: string;
  /** The logs' `service`. Default none. */
  service?: string;
  /** The logs' `ddsource` (the technology, for Datadog's pipelines). Default none. */
  ddsource?: string;
  /** The logs' `ddtags`, comma-separated `key:value` tags, e.g. `'env:prod,version:1.2.0'`. Default none. */
  ddtags?: string;
  /** The logs' `hostname`. Default none. */
  hostname?: string;
}

/** The protocol options as given to the transport. */
export interface ProtocolOptions {
  /** The wire protocol. Default `'http'`. */
  protocol?: Protocol;
  /** Settings of `protocol: 'otlp'`; refused with any other protocol. */
  otlp?: OtlpOptions;
  /** Settings of `protocol: 'loki'`; refused with any other protocol. */
  loki?: LokiOptions;
  /** Settings of `protocol: 'elasticsearch'`; refused with any other protocol. */
  elasticsearch?: ElasticsearchOptions;
  /** Settings of `protocol: 'splunk-hec'`; required there (for `token`), refused with any other protocol. */
  splunkHec?: SplunkHecOptions;
  /** Settings of `protocol: 'datadog'`; required there (for `apiKey`), refused with any other protocol. */
  datadog?: DatadogOptions;
}

/** What the protocol options (and, for `'otlp'`, the OpenTelemetry environment variables) come to. */
export interface ResolvedProtocol {
  readonly settings: ProtocolSettings;
  /**
   * Request headers the options or the environment imply (credentials, tenant, `OTEL_EXPORTER_OTLP_HEADERS`); the
   * user's `headers` are applied over them.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** Whether bodies are gzipped when the user did not say (`compress` unset). */
  readonly compressByDefault: boolean;
  /** The server when neither `url` nor `logstream` is given (`OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`, …); else none. */
  readonly defaultTarget?: ServerTarget;
  /** The request timeout when `timeoutMs` is not given (`OTEL_EXPORTER_OTLP_LOGS_TIMEOUT`, …); else the usual default. */
  readonly defaultTimeoutMs?: number;
}

/** Where the environment-derived defaults come from; the process's own, except in tests. */
export interface ProtocolEnvironment {
  readonly env: NodeJS.ProcessEnv;
  /** The main script's path (`process.argv[1]`). */
  readonly mainScript: string | undefined;
  readonly cwd: string;
  /** Where a malformed variable is reported (a line without the prefix). Default: a stderr line. */
  readonly warn?: (message: string) => void;
}

/** The running process's environment, arguments and working directory, read when a transport is made. */
export function processEnvironment(): ProtocolEnvironment {
  return { env: process.env, mainScript: process.argv[1], cwd: process.cwd() };
}

function printWarning(message: string): void {
  process.stderr.write(`winston-logstream: ${message}\n`);
}

/** The option holding each protocol's settings. */
const OPTION_OF: Readonly<Record<Exclude<Protocol, 'http'>, keyof ProtocolOptions>> = {
  otlp: 'otlp',
  loki: 'loki',
  elasticsearch: 'elasticsearch',
  'splunk-hec': 'splunkHec',
  datadog: 'datadog',
};

/** Prometheus label names, which Loki requires. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Checks the protocol options and resolves them.
 * @param userHeaders - the user's `headers`, lower-cased: credentials given there satisfy a required secret option.
 * @throws TypeError naming the offending option; messages never contain a secret's value.
 */
export function resolveProtocol(
  options: ProtocolOptions,
  userHeaders: Readonly<Record<string, string>>,
  environment: ProtocolEnvironment = processEnvironment(),
): ResolvedProtocol {
  const name = options.protocol ?? 'http';
  if (!PROTOCOLS.includes(name)) {
    throw new TypeError(
      `winston-logstream: option "protocol" must be one of ${PROTOCOLS.map((p) => `"${p}"`).join(', ')}`,
    );
  }
  for (const [protocol, option] of Object.entries(OPTION_OF)) {
    if (options[option] !== undefined && protocol !== name) {
      throw new TypeError(`winston-logstream: option "${option}" applies only with protocol "${protocol}"`);
    }
  }
  switch (name) {
    case 'http':
      return { settings: { name }, headers: {}, compressByDefault: false };
    case 'otlp': {
      const given = section(options.otlp, 'otlp');
      const otel = readOtlpEnvironment(environment.env, environment.warn ?? printWarning);
      return {
        settings: { name, ...resolveOtlp(given, otel, environment) },
        headers: otel.headers,
        compressByDefault: otel.compress ?? false,
        defaultTarget: otel.endpoint,
        defaultTimeoutMs: otel.timeoutMs,
      };
    }
    case 'loki': {
      const given = section(options.loki, 'loki');
      const tenant = optionalSecret(given.tenant, 'loki.tenant');
      return {
        settings: { name, ...resolveLokiLabels(given.labels) },
        headers: tenant === undefined ? {} : { 'x-scope-orgid': tenant },
        compressByDefault: false,
      };
    }
    case 'elasticsearch': {
      const given = section(options.elasticsearch, 'elasticsearch');
      const apiKey = optionalSecret(given.apiKey, 'elasticsearch.apiKey');
      return {
        settings: { name, index: optionalString(given.index, 'elasticsearch.index') ?? 'logs-winston-default' },
        headers: apiKey === undefined ? {} : { authorization: `ApiKey ${apiKey}` },
        compressByDefault: false,
      };
    }
    case 'splunk-hec': {
      const given = section(options.splunkHec, 'splunkHec');
      const token = requiredSecret(given.token, 'splunkHec.token', 'authorization', userHeaders);
      return {
        settings: {
          name,
          host: optionalString(given.host, 'splunkHec.host'),
          source: optionalString(given.source, 'splunkHec.source'),
          sourcetype: optionalString(given.sourcetype, 'splunkHec.sourcetype'),
          index: optionalString(given.index, 'splunkHec.index'),
        },
        headers: token === undefined ? {} : { authorization: `Splunk ${token}` },
        compressByDefault: false,
      };
    }
    case 'datadog': {
      const given = section(options.datadog, 'datadog');
      const apiKey = requiredSecret(given.apiKey, 'datadog.apiKey', 'dd-api-key', userHeaders);
      return {
        settings: {
          name,
          service: optionalString(given.service, 'datadog.service'),
          ddsource: optionalString(given.ddsource, 'datadog.ddsource'),
          ddtags: optionalString(given.ddtags, 'datadog.ddtags'),
          hostname: optionalString(given.hostname, 'datadog.hostname'),
        },
        headers: apiKey === undefined ? {} : { 'dd-api-key': apiKey },
        compressByDefault: true, // Datadog asks for gzip
      };
    }
  }
}

function resolveOtlp(given: OtlpOptions, otel: OtlpEnvironment, environment: ProtocolEnvironment): OtlpSettings {
  const resource: Record<string, JsonValue> = { ...otel.resource };
  resource['service.name'] = resource['service.name'] || applicationName(environment) || 'unknown_service:node';
  if (given.resource !== undefined) {
    if (typeof given.resource !== 'object' || given.resource === null || Array.isArray(given.resource)) {
      throw new TypeError('winston-logstream: option "otlp.resource" must be an object of attributes');
    }
    for (const [key, value] of Object.entries(given.resource)) {
      const converted = toJsonValue(value);
      if (converted !== undefined) resource[key] = converted;
    }
  }
  const scope = section(given.scope, 'otlp.scope');
  return {
    resource,
    scope: {
      name: optionalString(scope.name, 'otlp.scope.name') ?? 'winston-logstream',
      version: optionalString(scope.version, 'otlp.scope.version'),
    },
  };
}

/**
 * The running application's package name, the default `service.name` when neither `OTEL_SERVICE_NAME` nor
 * `OTEL_RESOURCE_ATTRIBUTES` gives one: `npm_package_name` (set by `npm start` and `npm run`), else the `name`
 * of the nearest `package.json` above the main script (above the working directory when the main script is a
 * tool inside `node_modules`, such as a test runner).
 * @returns `undefined` when none is found.
 */
export function applicationName(environment: ProtocolEnvironment): string | undefined {
  const { env, mainScript, cwd } = environment;
  if (env.npm_package_name) return env.npm_package_name;
  const inDependency = mainScript === undefined || mainScript.includes(`${sep}node_modules${sep}`);
  for (let dir = inDependency ? cwd : dirname(mainScript); ; dir = dirname(dir)) {
    const name = packageName(join(dir, 'package.json'));
    if (name !== undefined) return name;
    if (dirname(dir) === dir) return undefined;
  }
}

function packageName(path: string): string | undefined {
  try {
    const name = (JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown }).name;
    return typeof name === 'string' && name !== '' ? name : undefined;
  } catch {
    return undefined; // no package.json here, or not readable JSON
  }
}

function resolveLokiLabels(labels: LokiOptions['labels']): {
  staticLabels: Record<string, string>;
  labelFields: string[];
} {
  const given = section(labels, 'loki.labels');
  const staticLabels: Record<string, string> = {};
  for (const [label, value] of Object.entries(section(given.static, 'loki.labels.static'))) {
    if (!LABEL_NAME.test(label))
      throw new TypeError(`winston-logstream: option "loki.labels.static" has an invalid label name "${label}"`);
    if (typeof value !== 'string')
      throw new TypeError(`winston-logstream: option "loki.labels.static.${label}" must be a string`);
    staticLabels[label] = value;
  }
  const fields = given.fields ?? ['level'];
  if (!Array.isArray(fields) || fields.some((field) => typeof field !== 'string' || !LABEL_NAME.test(field))) {
    throw new TypeError('winston-logstream: option "loki.labels.fields" must be an array of valid label names');
  }
  const clash = fields.find((field) => Object.hasOwn(staticLabels, field));
  if (clash !== undefined)
    throw new TypeError(`winston-logstream: label "${clash}" is in both "loki.labels.static" and "loki.labels.fields"`);
  if (fields.length === 0 && Object.keys(staticLabels).length === 0) {
    throw new TypeError(
      'winston-logstream: option "loki.labels" must give at least one label (Loki refuses streams without one)',
    );
  }
  return { staticLabels, labelFields: [...fields] };
}

/** An options object, or `{}` when absent. */
function section<T extends object>(value: T | undefined, name: string): T {
  if (value === undefined) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`winston-logstream: option "${name}" must be an object`);
  }
  return value;
}

/** A non-empty string without line breaks (it may end up in a header), or undefined. The value is never echoed. */
function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || /[\r\n]/.test(value)) {
    throw new TypeError(`winston-logstream: option "${name}" must be a non-empty string without line breaks`);
  }
  return value;
}

/** A secret sent in a header: checked here, so that it cannot fail at send time. Never echoed. */
function optionalSecret(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || !HEADER_VALUE.test(value)) {
    throw new TypeError(`winston-logstream: option "${name}" must be a non-empty string of visible Latin-1 characters`);
  }
  return value;
}

/** A secret the backend requires, unless the user sends the header it goes into themselves. */
function requiredSecret(
  value: unknown,
  name: string,
  header: string,
  userHeaders: Readonly<Record<string, string>>,
): string | undefined {
  const secret = optionalSecret(value, name);
  if (secret === undefined && !Object.hasOwn(userHeaders, header)) {
    throw new TypeError(
      `winston-logstream: option "${name}" is required (or a "${header}" header in option "headers")`,
    );
  }
  return secret;
}
