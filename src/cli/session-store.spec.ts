import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { configDirectory, normalizeUrl, sessionFile } from './session-store.js';

describe('where sessions are kept', () => {
  it('uses $XDG_CONFIG_HOME/apptoken, else ~/.config/apptoken', () => {
    expect(configDirectory({ XDG_CONFIG_HOME: '/x/config', HOME: '/home/u' })).toBe(path.join('/x/config', 'apptoken'));
    expect(configDirectory({ HOME: '/home/u' })).toBe(path.join('/home/u', '.config', 'apptoken'));
    // A relative XDG_CONFIG_HOME is invalid by the spec: ignored.
    expect(configDirectory({ XDG_CONFIG_HOME: 'rel', HOME: '/home/u' })).toBe(path.join('/home/u', '.config', 'apptoken'));
  });

  it('keys the file by server: one server spelled two ways shares it, two servers do not', () => {
    const env = { HOME: '/home/u' };
    expect(normalizeUrl('http://LocalHost:5000/')).toBe('http://localhost:5000');
    expect(sessionFile('http://localhost:5000/', env)).toBe(sessionFile('http://LOCALHOST:5000', env));
    expect(sessionFile('http://localhost:5000', env)).not.toBe(sessionFile('http://localhost:5001', env));
    expect(sessionFile('http://localhost:5000', env)).not.toBe(sessionFile('https://localhost:5000', env));
  });
});
