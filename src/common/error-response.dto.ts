import { ApiProperty } from '@nestjs/swagger';

/** The shape of every error the API returns. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ example: 'Bad Request' })
  error: string;

  @ApiProperty({ example: 'property foo should not exist' })
  message: string;

  @ApiProperty({ required: false, example: '7d5c0f0e-3f5e-4c4b-9a53-8e8c7f7b1a52', description: 'Present on 500 responses, to find the log entry' })
  requestId?: string;
}
