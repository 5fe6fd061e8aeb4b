import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { PASSWORD_MAX_LENGTH } from '../password.service.js';

/** Property names in any letter case: PowerShell sends `UserName` / `Password`. */
export class SigninDto {
  @ApiProperty({ example: 'admin', maxLength: 256 })
  @IsString()
  @MaxLength(256)
  username: string;

  @ApiProperty({ example: 'correct horse battery staple', maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password: string;
}

export class SigninFailedDto {
  @ApiProperty({ example: 401 })
  statusCode: number;

  @ApiProperty({ example: 'Unauthorized' })
  error: string;

  @ApiProperty({ example: 'Invalid user name or password' })
  message: string;

  @ApiProperty({ description: 'PSU\'s field for the same message', example: 'Invalid user name or password' })
  errorMessage: string;
}
