/**
 * `.env.example` and the README's configuration table, written from the config schema (`npm run config:docs`,
 * scripts/config-docs.mjs); deployment-files.e2e-spec.ts fails when the committed files differ.
 */
import { COMPOSE_SCHEMA, CONFIG_SCHEMA, CONFIG_SECTIONS, type ConfigVariable } from './config-schema.js';

export const CONFIG_DOCS_COMMAND = 'npm run config:docs';
export const README_TABLE_BEGIN = `<!-- config-table:begin (generated from src/config/config-schema.ts by ${CONFIG_DOCS_COMMAND}; edit the schema, not this table) -->`;
export const README_TABLE_END = '<!-- config-table:end -->';

const COMPOSE_SECTION = 'Docker Compose only (read by docker-compose.yml, not by the service)';
const WIDTH = 118;

const plain = (markdown: string) => markdown.replace(/`/g, '').replace(/\*\*/g, '');

function wrap(text: string, prefix: string): string[] {
  const lines: string[] = [];
  let line = prefix;
  for (const word of text.split(' ')) {
    if (line.length > prefix.length && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = prefix;
    }
    line += line.length > prefix.length ? ` ${word}` : word;
  }
  lines.push(line);
  return lines;
}

/** The description with the example and the compose stack's own default appended. */
function describe(variable: Documented, asMarkdown: boolean): string {
  const code = (value: string) => (asMarkdown ? `\`${value}\`` : value);
  let text = variable.description;
  if (variable.example !== undefined) text += ` Example: ${code(variable.example)}.`;
  if (variable.compose !== undefined) text += ` docker-compose.yml: ${code(variable.compose)}.`;
  return asMarkdown ? text : plain(text);
}

type Documented = Omit<ConfigVariable, 'section'>;

function groups(): { title: string; variables: readonly Documented[] }[] {
  return [
    ...CONFIG_SECTIONS.map((title) => ({ title, variables: CONFIG_SCHEMA.filter((variable) => variable.section === title) })),
    { title: COMPOSE_SECTION, variables: COMPOSE_SCHEMA },
  ];
}

/** Every variable commented out at its default, so a copy to `.env` changes nothing until a line is uncommented. */
export function renderEnvExample(): string {
  const lines = [
    `# AppToken Server configuration: every variable, commented out at its default. Generated from`,
    `# src/config/config-schema.ts by \`${CONFIG_DOCS_COMMAND}\`: edit the schema, not this file.`,
    '# Copy to .env (read by `npm start` from the working directory, and by `docker compose`) and uncomment what you',
    '# change; the environment wins over .env. An empty value (NAME=) means unset.',
  ];
  for (const { title, variables } of groups()) {
    lines.push('', `# ==== ${title} ====`);
    for (const variable of variables) {
      lines.push('', ...wrap(describe(variable, false), '# '), `# ${variable.name}=${variable.default ?? ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The README's table: one header row per section. */
export function renderConfigTable(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const lines = ['| variable | default | meaning |', '|---|---|---|'];
  for (const { title, variables } of groups()) {
    lines.push(`| **${cell(title)}** | | |`);
    for (const variable of variables) {
      const fallback = variable.default === undefined ? 'unset' : `\`${variable.default}\``;
      lines.push(`| \`${variable.name}\` | ${fallback} | ${cell(describe(variable, true))} |`);
    }
  }
  return lines.join('\n');
}

/** The README with its table (between the markers) replaced by the generated one; throws without both markers. */
export function withConfigTable(readme: string): string {
  const begin = readme.indexOf(README_TABLE_BEGIN);
  const end = readme.indexOf(README_TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no ${README_TABLE_BEGIN} ... ${README_TABLE_END} markers`);
  return `${readme.slice(0, begin + README_TABLE_BEGIN.length)}\n${renderConfigTable()}\n${readme.slice(end)}`;
}
