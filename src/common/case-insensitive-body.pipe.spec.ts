import { describe, expect, it } from '@jest/globals';
import { BadRequestException } from '@nestjs/common';
import { IsOptional, IsString, ValidateNested } from 'class-validator';
import { CaseInsensitiveBodyPipe } from './case-insensitive-body.pipe.js';

class InnerDto {
  @IsString()
  name: string;
}

class OuterDto {
  @IsString()
  userName: string;

  @IsOptional()
  @ValidateNested()
  identity?: InnerDto;
}

const pipe = new CaseInsensitiveBodyPipe();
const fold = (value: unknown) => pipe.transform(value, { type: 'body', metatype: OuterDto });

describe('CaseInsensitiveBodyPipe', () => {
  it('renames properties to their declared case, nested DTOs included', () => {
    expect(fold({ USERNAME: 'a', Identity: { NAME: 'b' } })).toEqual({ userName: 'a', identity: { name: 'b' } });
  });

  it('leaves unknown properties for the validator to refuse', () => {
    expect(fold({ username: 'a', Extra: 1 })).toEqual({ userName: 'a', Extra: 1 });
  });

  it('refuses a property given twice in different cases', () => {
    expect(() => fold({ username: 'a', UserName: 'b' })).toThrow(BadRequestException);
  });

  it('refuses keys that would reach an object prototype', () => {
    const form = Object.create(null) as Record<string, unknown>;
    form.__proto__ = { polluted: true };
    expect(() => fold(form)).toThrow('property __proto__ is not allowed');
    expect(() => fold({ constructor: { prototype: {} } })).toThrow(BadRequestException);
  });

  it('refuses a body that is not an object', () => {
    expect(() => fold(['a'])).toThrow('Request body must be a JSON object');
    expect(() => fold('a')).toThrow(BadRequestException);
  });

  it('ignores query and path parameters', () => {
    expect(pipe.transform({ USERNAME: 'a' }, { type: 'query', metatype: OuterDto })).toEqual({ USERNAME: 'a' });
  });
});
