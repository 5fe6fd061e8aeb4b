import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../src/common/error-code.js';
import { OPENAPI_FILE, OPENAPI_WRITE_COMMAND, serializeOpenApi } from '../src/swagger.js';
import { startApp, type TestApp } from './support/app.js';

type Operation = { security?: unknown[]; requestBody?: unknown; responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> };

/**
 * The OpenAPI document is committed (openapi.json) so that an API change shows in review: the running app's
 * document must be exactly the committed one.
 */
describe('the committed OpenAPI contract', () => {
  let t: TestApp;
  let served: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, { enum?: unknown[]; properties?: Record<string, { allOf?: Array<{ $ref?: string }> }> }> } };

  beforeAll(async () => {
    t = await startApp();
    served = (await t.http.get('/swagger/json')).body;
  });
  afterAll(async () => t?.close());

  it('is what the running app serves', () => {
    const committed = readFileSync(path.resolve(OPENAPI_FILE), 'utf8');
    const current = serializeOpenApi(served);
    if (current !== committed) {
      const at = [...current].findIndex((char, index) => char !== committed[index]);
      const line = current.slice(0, at).split('\n').length;
      throw new Error(`${OPENAPI_FILE} differs from the running app's document from line ${line}; rewrite it with \`${OPENAPI_WRITE_COMMAND}\` and review the diff`);
    }
  });

  it('has every error code in the README\'s table, and no other', () => {
    const readme = readFileSync(path.resolve('README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Error codes'), readme.indexOf('## App tokens'));
    const listed = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(listed).toEqual([...ERROR_CODES]);
  });

  it('lists the error codes as an enum, and every error response of every operation uses the error schema', () => {
    expect(served.components.schemas.ErrorResponseDto.properties?.code?.allOf).toEqual([{ $ref: '#/components/schemas/ErrorCode' }]);
    expect(served.components.schemas.ErrorCode.enum).toEqual([...ERROR_CODES]);
    const loose: string[] = [];
    for (const [template, operations] of Object.entries(served.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(operation.security).toBeDefined();
        if (operation.requestBody !== undefined) expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['400', '413', '415']));
        if ((operation.security ?? []).length > 0) expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '503']));
        for (const [status, response] of Object.entries(operation.responses)) {
          // Readiness (and PSU's name for it, status) answers 503 with its own body: the error fields and the checks.
          if (Number(status) < 400 || template === '/api/v1/ready' || template === '/api/v1/status') continue;
          const ref = response.content?.['application/json']?.schema?.$ref ?? '';
          if (!/#\/components\/schemas\/(ErrorResponseDto|SigninFailedDto)$/.test(ref)) loose.push(`${method.toUpperCase()} ${template} ${status}`);
        }
      }
    }
    expect(loose).toEqual([]);
  });
});
