/** Types for `abstract-winston-transport` (winston's abstract test suite for transports), which ships none. */
declare module 'abstract-winston-transport' {
  import type TransportStream from 'winston-transport';

  /** Options of the suite, as its `index.js` documents them. */
  interface AbstractTransportSuiteOptions<Options> {
    /** Names the suite's `describe` block. */
    name: string;
    /** The transport class: a new instance is made before each test. */
    Transport: new (options: Options) => TransportStream;
    /** The constructor's options, or a function returning them (called before each test). */
    construct?: Options | (() => Options);
    /** Runs after each test, and once more after them all. */
    afterEach?: (options: AbstractTransportSuiteOptions<Options>, done: (error?: unknown) => void) => void;
    /** Adds the `query()` tests. */
    query?: boolean;
    /** Adds the `stream()` tests. */
    stream?: boolean;
  }

  /** Defines the suite's mocha `describe` block (call it where a `describe` may be defined). */
  function abstractTransportSuite<Options>(options: AbstractTransportSuiteOptions<Options>): void;
  export = abstractTransportSuite;
}
