import { ApiProperty } from '@nestjs/swagger';
import { ErrorCode } from './error-code.js';

/** The shape of every error the API returns. */
export class ErrorResponseDto {
  @ApiProperty({ type: 'integer', example: 400, description: 'The HTTP status, repeated' })
  statusCode: number;

  @ApiProperty({ example: 'Bad Request', description: 'The HTTP reason phrase' })
  error: string;

  @ApiProperty({
    enum: ErrorCode,
    enumName: 'ErrorCode',
    example: ErrorCode.VALIDATION_FAILED,
    description: 'Stable code to branch on (the README lists what each means and what a script should do); new codes may be added, none is renamed',
  })
  code: ErrorCode;

  @ApiProperty({ example: 'property foo should not exist', description: 'What is wrong, for a person' })
  message: string;

  @ApiProperty({ required: false, example: 'Invalid user name or password', description: 'PSU\'s field, on sign-in refusals (401, 429)' })
  errorMessage?: string;

  @ApiProperty({ required: false, example: '7d5c0f0e-3f5e-4c4b-9a53-8e8c7f7b1a52', description: 'Present on 5xx responses, to find the log entry' })
  requestId?: string;
}
