/**
 * What Node accepts in request headers, checked where headers are configured so that nothing fails at send time.
 * @module
 */

/** An HTTP header name: an RFC 9110 token. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** What Node sends as a header value without throwing at request time: tab, visible ASCII and Latin-1. */
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
