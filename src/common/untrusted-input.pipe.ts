import { type ArgumentMetadata, BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import { untrustedInputProblem } from './untrusted-input.js';

/**
 * The first global pipe: every body, query and path parameter passes {@link untrustedInputProblem}
 * before the DTO pipes (and class-transformer) see it. Values of our own decorators (the principal) are not input.
 */
@Injectable()
export class UntrustedInputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body' && metadata.type !== 'query' && metadata.type !== 'param') return value;
    const what = metadata.data ?? (metadata.type === 'body' ? 'the request body' : metadata.type === 'query' ? 'the query' : 'a path parameter');
    const problem = untrustedInputProblem(value, what, metadata.data ?? '');
    if (problem) throw new BadRequestException(problem);
    return value;
  }
}
