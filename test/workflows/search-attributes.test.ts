/**
 * The search attributes workflows set (domain/temporal/search-attributes.ts) must be exactly the ones the
 * local server registers from infra/temporal/search-attributes.txt; a name in one and not the
 * other fails every workflow start that uses it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { farmiqSearchAttributes } from '../../domain/temporal/search-attributes';
import { repoRoot } from '../support/stack';

const typeNames: Record<string, string> = {
  KEYWORD: 'Keyword',
  TEXT: 'Text',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

it('matches infra/temporal/search-attributes.txt', () => {
  const registered = fs
    .readFileSync(path.join(repoRoot, 'infra', 'temporal', 'search-attributes.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(/\s+/).join(' '))
    .sort();
  const inCode = farmiqSearchAttributes.map((k) => `${k.name} ${typeNames[k.type]}`).sort();
  expect(inCode).toEqual(registered);
});
