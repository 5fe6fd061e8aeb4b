import { describe, expect, it } from '@jest/globals';
import { RequestTally } from './request-tally.js';

describe('RequestTally', () => {
  it('counts by method, route and status, and puts each duration in the first bucket that holds it', () => {
    const tally = new RequestTally([0.001, 0.01]);
    tally.record('GET', '/a/:id', 200, 0.0005);
    tally.record('GET', '/a/:id', 200, 0.001);
    tally.record('GET', '/a/:id', 404, 0.005);
    tally.record('GET', '/a/:id', 200, 3);
    tally.record('POST', '/a/:id', 201, 0.002);
    const [get, post] = [...tally.tallies()];
    expect(get).toMatchObject({ method: 'GET', route: '/a/:id', buckets: [2, 1], count: 4 });
    expect([...get.statuses]).toEqual([[200, 3], [404, 1]]);
    expect(get.sum).toBeCloseTo(3.0065);
    expect(post).toMatchObject({ method: 'POST', buckets: [0, 1], count: 1 });
  });
});
