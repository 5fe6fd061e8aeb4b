/**
 * The data source the TypeORM CLI uses (`npm run migration:run`, `migration:generate`, `migration:revert`).
 * The service itself migrates at start-up, including the embedded database; the CLI needs DATABASE_URL.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options.js';

const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error('DATABASE_URL is not set. The embedded database migrates itself when the service starts (npm start).');
}

// On the command line, say which migrations ran (the service logs them through its own logger).
export default new DataSource({ ...dataSourceOptions(url, 2), logger: 'simple-console', logging: ['migration', 'error', 'warn'] });
