/**
 * The wire protocols, listed once: adding one is a module in this folder and its line in `REGISTRY`, plus, for the
 * public API's readability, its name in {@link Protocol} and its option in {@link ProtocolOptions} (the compiler
 * asks for both). The protocols' settings types are derived from the registry.
 * @module
 */
import { datadog, type DatadogOption } from './datadog.js';
import { elasticsearch, type ElasticsearchOption } from './elasticsearch.js';
import { http } from './http.js';
import { loki, type LokiOption } from './loki.js';
import { otlp, type OtlpOption } from './otlp.js';
import type { BackendLimits, ProtocolDefinition } from './shared/definition.js';
import { splunkHec, type SplunkHecOption } from './splunk-hec.js';

/** The wire protocols: `'http'` is plain JSON POSTs; the others speak a log backend's ingestion API. */
export type Protocol = 'http' | 'otlp' | 'loki' | 'elasticsearch' | 'splunk-hec' | 'datadog';

/** The protocol options as given to the transport: `protocol`, and each protocol's own option. */
export interface ProtocolOptions extends OtlpOption, LokiOption, ElasticsearchOption, SplunkHecOption, DatadogOption {
  /** The wire protocol. Default `'http'`. */
  protocol?: Protocol;
}

/** Every protocol under its name, in documentation order ('http', the default, first). */
const REGISTRY = {
  http,
  otlp,
  loki,
  elasticsearch,
  'splunk-hec': splunkHec,
  datadog,
} satisfies { readonly [N in Protocol]: { readonly name: N } };

/** What the type arguments of a protocol's definition are. */
type PartsOf<D> =
  D extends ProtocolDefinition<string, infer Option, infer Settings, infer Limits extends BackendLimits | undefined>
    ? { readonly option: Option; readonly settings: Settings; readonly limits: Limits }
    : never;

/** The type arguments of protocol `N`'s definition. */
type Parts<N extends Protocol> = PartsOf<(typeof REGISTRY)[N]>;

/** Protocol `N`'s definition, typed by its name. */
export type DefinitionOf<N extends Protocol> = ProtocolDefinition<
  N,
  Parts<N>['option'],
  Parts<N>['settings'],
  Parts<N>['limits']
>;

/** Protocol `N`'s resolved settings, without its name. */
export type SettingsOf<N extends Protocol> = Parts<N>['settings'];

/**
 * Every definition by name. Typed as a mapping from each name to its own definition (checked against the
 * registry), so that code generic in the name hands a protocol's settings to that protocol's encoder only.
 */
export const DEFINITIONS: { readonly [N in Protocol]: DefinitionOf<N> } = REGISTRY;

/** Every protocol name, in documentation order. */
export const PROTOCOLS: readonly Protocol[] = Object.values(DEFINITIONS).map((definition) => definition.name);

/** A protocol with its resolved settings. */
export type ProtocolSettings = { readonly [N in Protocol]: { readonly name: N } & SettingsOf<N> }[Protocol];
