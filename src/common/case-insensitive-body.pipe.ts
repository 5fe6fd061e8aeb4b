import { type ArgumentMetadata, BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';

type Class = abstract new (...args: never[]) => unknown;

const knownPropertiesCache = new WeakMap<Class, Map<string, string>>();

/** Lower-cased property name → declared name, from the DTO's class-validator metadata. */
function knownProperties(type: Class): Map<string, string> {
  let known = knownPropertiesCache.get(type);
  if (!known) {
    known = new Map();
    for (const meta of getMetadataStorage().getTargetValidationMetadatas(type as never, '', true, false)) {
      known.set(meta.propertyName.toLowerCase(), meta.propertyName);
    }
    knownPropertiesCache.set(type, known);
  }
  return known;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Renames `UserName` to `username` (and so on, nested DTOs too) before validation, dropping null properties. */
export function foldPropertyCase(value: unknown, type: Class, path = ''): unknown {
  if (!isPlainObject(value)) return value;
  const known = knownProperties(type);
  if (known.size === 0) return value;
  const result: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') throw new BadRequestException(`property ${path}${key} is not allowed`);
    // null is "not given", as PowerShell's ConvertTo-Json writes every unset property: validators skip
    // optional nulls, so passing one on would reach services that never expect it.
    if (inner === null) continue;
    const declared = known.get(key.toLowerCase()) ?? key;
    if (Object.prototype.hasOwnProperty.call(result, declared)) {
      throw new BadRequestException(`property ${path}${declared} is given more than once (property names are case-insensitive)`);
    }
    const nestedType = Reflect.getMetadata('design:type', type.prototype as object, declared) as Class | undefined;
    result[declared] =
      nestedType && isPlainObject(inner) && knownProperties(nestedType).size > 0
        ? foldPropertyCase(inner, nestedType, `${path}${declared}.`)
        : inner;
  }
  return result;
}

/**
 * Request bodies accept property names in any letter case, as PSU does: PowerShell's
 * `@{ UserName = ... } | ConvertTo-Json` sends PascalCase. Runs before the ValidationPipe.
 */
@Injectable()
export class CaseInsensitiveBodyPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body' || typeof metadata.metatype !== 'function') return value;
    // No body at all (PowerShell's POST without -Body): validate it as an empty object.
    if (value === undefined && knownProperties(metadata.metatype).size > 0) return {};
    if (!isPlainObject(value) && knownProperties(metadata.metatype).size > 0) {
      throw new BadRequestException('Request body must be a JSON object');
    }
    return foldPropertyCase(value, metadata.metatype);
  }
}
