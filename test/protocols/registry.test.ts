import { expect } from 'chai';
import { DEFINITIONS, PROTOCOLS } from '../../src/protocols/registry.js';
import { resolveProtocol } from '../../src/protocols/index.js';

describe('protocols/registry', function () {
  it("lists every protocol under its own name, 'http' first", function () {
    expect(PROTOCOLS[0]).to.equal('http');
    for (const name of PROTOCOLS) expect(DEFINITIONS[name].name).to.equal(name);
  });

  it('gives every protocol with an option of its own a backend limit', function () {
    for (const definition of Object.values(DEFINITIONS)) {
      if (definition.optionKey === undefined) continue;
      expect(definition.limits?.maxEntries, definition.name).to.be.above(0);
      expect(definition.limits?.maxBytes, definition.name).to.be.above(0);
    }
  });

  it("refuses each protocol's option with every other protocol", function () {
    for (const owner of Object.values(DEFINITIONS)) {
      const key = owner.optionKey;
      if (key === undefined) continue;
      for (const protocol of PROTOCOLS.filter((name) => name !== owner.name)) {
        expect(() => resolveProtocol({ protocol, [key]: {} }, {}, { env: {} }), protocol)
          .to.throw(TypeError)
          .with.property('message', `winston-logstream: option "${key}" applies only with protocol "${owner.name}"`);
      }
    }
  });
});
