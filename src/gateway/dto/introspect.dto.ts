import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/** RFC 7662 §2.1, form-encoded (or JSON). */
export class IntrospectRequestDto {
  @ApiProperty({ description: 'The app token asked about', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ...' })
  @IsString()
  @MaxLength(16384)
  token: string;

  @ApiPropertyOptional({ description: 'Ignored: there is one kind of token here', example: 'access_token' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  token_type_hint?: string;
}

/** RFC 7662 §2.2. Only `active` when the token is not valid. */
export class IntrospectResponseDto {
  @ApiProperty({ example: true })
  active: boolean;

  @ApiPropertyOptional({ example: 'admin' })
  username?: string;

  @ApiPropertyOptional({ type: 'integer', description: 'Absent for a token that never expires', example: 1827424864 })
  exp?: number;

  @ApiPropertyOptional({ type: 'integer', example: 1795888864 })
  iat?: number;

  @ApiPropertyOptional({ type: 'integer', example: 1795888864 })
  nbf?: number;

  @ApiPropertyOptional({ example: 'IronmanSoftware' })
  iss?: string;

  @ApiPropertyOptional({ example: 'PowerShellUniversal' })
  aud?: string;

  @ApiPropertyOptional({ type: [String], description: 'The roles in effect now', example: ['Operator'] })
  roles?: string[];

  @ApiPropertyOptional({ example: 'Bearer' })
  token_type?: string;
}
