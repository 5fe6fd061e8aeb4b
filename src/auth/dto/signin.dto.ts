import { ApiProperty, OmitType } from '@nestjs/swagger';
import { ErrorResponseDto } from '../../common/error-response.dto.js';
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

/** The sign-in refusal: the usual error fields and PSU's `errorMessage`, always present here. */
export class SigninFailedDto extends OmitType(ErrorResponseDto, ['errorMessage'] as const) {
  @ApiProperty({ description: 'PSU\'s field for the same message', example: 'Invalid user name or password' })
  errorMessage: string;
}
