import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';

export const MAX_PAGE_SIZE = 500;
/** Keeps the row offset (page × pageSize) well inside what PostgreSQL takes. */
export const MAX_PAGE = 1_000_000;

/** `page` (from 1) and `pageSize` (up to 500); the total goes in `X-Total-Count`. */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 1, example: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  page?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 50, example: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  pageSize?: number;
}

export function pageWindow(query: PageQueryDto): { skip: number; take: number } {
  const take = query.pageSize ?? 50;
  return { skip: ((query.page ?? 1) - 1) * take, take };
}

export function setTotalCount(reply: FastifyReply, total: number): void {
  void reply.header('X-Total-Count', String(total));
}
