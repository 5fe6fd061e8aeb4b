import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import SwaggerParser from '@apidevtools/swagger-parser';
import { DataSource } from 'typeorm';
import { ACCESS_METADATA, type AccessRule } from '../src/auth/decorators/access.decorator.js';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';

interface RouteRule {
  route: string;
  rule: AccessRule | undefined;
}

/** Every handler Nest registered, with the access rule the guard will read for it. */
function registeredRoutes(t: TestApp): RouteRule[] {
  const routes: RouteRule[] = [];
  for (const module of t.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new () => object) | null;
      if (!controller) continue;
      const base = Reflect.getMetadata(PATH_METADATA, controller) as string;
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        if (path === undefined) continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as number;
        const rule = (Reflect.getMetadata(ACCESS_METADATA, handler) ?? Reflect.getMetadata(ACCESS_METADATA, controller)) as AccessRule | undefined;
        routes.push({ route: `${method} /${base}/${path}`.replace(/\/+/g, '/').replace(/\/$/, ''), rule });
      }
    }
  }
  return routes;
}

/** Routes anyone may call: liveness, readiness and PSU's status and version, sign-in, and the forward-auth decision. */
const PUBLIC_PATHS = ['/api/v1/alive', '/api/v1/ready', '/api/v1/status', '/api/v1/version', '/api/v1/signin', '/api/v1/apptoken/verify'];

describe('access rules and the OpenAPI document', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => t?.close());

  it('finds an access rule on every registered route', () => {
    const routes = registeredRoutes(t);
    expect(routes.length).toBeGreaterThanOrEqual(15);
    expect(routes.filter(({ rule }) => rule === undefined).map(({ route }) => route)).toEqual([]);
  });

  it('makes public only the routes meant to be public', () => {
    const publicRoutes = registeredRoutes(t)
      .filter(({ rule }) => rule?.kind === 'public')
      .map(({ route }) => route.replace(/^\d+ /, ''))
      .sort();
    // verify is the access decision itself: rules may let a request through without a token.
    expect(publicRoutes).toEqual(['/api/v1/alive', '/api/v1/apptoken/verify', '/api/v1/ready', '/api/v1/signin', '/api/v1/status', '/api/v1/version']);
  });

  it('answers 401 on every non-public route without credentials, before validating anything', async () => {
    const paths = (await t.http.get('/swagger/json')).body.paths as Record<string, Record<string, unknown>>;
    for (const [path, operations] of Object.entries(paths)) {
      for (const method of Object.keys(operations)) {
        if (PUBLIC_PATHS.includes(path)) continue;
        const concrete = path.replace(/\{[^}]+\}/g, '1');
        const response = await t.http.request(method.toUpperCase(), concrete, { body: method === 'get' ? undefined : {} });
        expect(`${method} ${path} ${response.status}`).toBe(`${method} ${path} 401`);
      }
    }
  });

  it('serves a valid OpenAPI 3 document with cookie and bearer schemes, security on every protected operation, and examples on DTOs', async () => {
    const response = await t.http.get('/swagger/json');
    expect(response.status).toBe(200);
    const document = response.body;
    expect(document.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(document))).resolves.toBeTruthy();
    expect(document.components.securitySchemes).toMatchObject({
      cookie: { type: 'apiKey', in: 'cookie', name: 'apptoken_session' },
      bearer: { type: 'http', scheme: 'bearer' },
    });
    for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (PUBLIC_PATHS.includes(path)) continue;
        expect(`${method} ${path}: ${JSON.stringify(operation.security)}`).toMatch(/bearer/);
      }
    }
    for (const [name, schema] of Object.entries(document.components.schemas as Record<string, any>)) {
      // A named enum (ErrorCode) is a list of values, not a DTO with properties to exemplify.
      if (schema.enum) continue;
      const properties = Object.entries(schema.properties ?? {}) as Array<[string, any]>;
      const documented = (definition: any) => definition.example !== undefined || definition.$ref !== undefined || definition.allOf !== undefined || definition.items?.$ref !== undefined;
      expect(`${name} has ${properties.some(([, d]) => documented(d)) ? 'an' : 'no'} example`).toBe(`${name} has an example`);
      for (const property of schema.required ?? []) {
        expect(`${name}.${property} ${documented(schema.properties[property]) ? 'has' : 'lacks'} an example`).toBe(`${name}.${property} has an example`);
      }
    }
  });

  it('documents a success response for every operation', async () => {
    const document = (await t.http.get('/swagger/json')).body;
    for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        const success = Object.keys(operation.responses ?? {}).filter((status) => /^2\d\d$/.test(status));
        expect(`${method} ${path}: ${success.length > 0 ? 'documented' : 'no 2xx'}`).toBe(`${method} ${path}: documented`);
      }
    }
  });

  it("gives request bodies examples that the API accepts as they stand (Swagger UI's Try it out)", async () => {
    const session = await t.http.signin('admin', ADMIN_PASSWORD);
    const document = (await t.http.get('/swagger/json')).body;
    let tried = 0;
    for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
      if (path.includes('{') || path === '/api/v1/signin') continue;
      for (const [method, operation] of Object.entries(operations)) {
        const examples = operation.requestBody?.content?.['application/json']?.examples as Record<string, { value: object }> | undefined;
        for (const [name, example] of Object.entries(examples ?? {})) {
          const response = await t.http.request(method.toUpperCase(), path, { body: example.value, session });
          tried++;
          expect(`${method} ${path} "${name}": ${response.status}`).not.toMatch(/: (400|5\d\d)$/);
        }
      }
    }
    expect(tried).toBeGreaterThanOrEqual(8);
  });

  it('serves the Swagger UI at /swagger', async () => {
    const ui = await t.http.get('/swagger');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger-ui');
  });

  it('keeps every timestamp as timestamptz', async () => {
    const rows = (await t.app.get(DataSource).query(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND data_type = 'timestamp without time zone'`,
    )) as unknown[];
    expect(rows).toEqual([]);
  });

  it('has committed migrations that match the entities exactly', async () => {
    const dataSource = t.app.get(DataSource);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });
});
