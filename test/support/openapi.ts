/**
 * Responses checked against the cloud API's OpenAPI document: the operation is found by method
 * and templated path, and the JSON body must be valid against the document's schema for that
 * status (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses). An answer whose status the document does
 * not list fails too. Every API test calls through apiCall(), so every answer it sees is checked.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

interface OpenApiDocument {
  paths?: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
  components?: unknown;
}

function pathPattern(template: string): RegExp {
  const parts = template.split(/\{[^}]+\}/).map((literal) => literal.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^/]+')}$`);
}

export class ResponseChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: { template: string; pattern: RegExp }[];

  constructor(readonly document: OpenApiDocument) {
    addFormats(this.ajv);
    this.ajv.addSchema(document, 'openapi');
    this.templates = Object.keys(document.paths ?? {})
      .map((template) => ({ template, pattern: pathPattern(template) }))
      // A literal segment wins over a parameter: /users/me before /users/{userId}.
      .sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
  }

  /** The document's path template for an actual path, or undefined. */
  templateOf(method: string, path: string): string | undefined {
    const m = method.toLowerCase();
    return this.templates.find((t) => t.pattern.test(path) && this.document.paths?.[t.template]?.[m])?.template;
  }

  /** Throws, saying why, unless the answer is one the document describes. */
  check(method: string, url: string, status: number, contentType: string | null, body: unknown): void {
    const path = new URL(url, 'http://x').pathname;
    const template = this.templateOf(method, path);
    if (!template) throw new Error(`${method} ${path}: no operation in the OpenAPI document`);
    const responses = this.document.paths?.[template]?.[method.toLowerCase()]?.responses ?? {};
    const response = responses[String(status)];
    if (!response) throw new Error(`${method} ${template}: status ${status} is not in the document (it lists ${Object.keys(responses).join(', ')})`);
    if (!contentType?.includes('application/json')) return;
    if (!response.content?.['application/json']) throw new Error(`${method} ${template} ${status}: a JSON body the document does not describe`);
    const key = `${template}|${method.toLowerCase()}|${status}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      const pointer = `openapi#/paths/${template.replace(/~/g, '~0').replace(/\//g, '~1')}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
      validate = this.ajv.compile({ $ref: pointer });
      this.compiled.set(key, validate);
    }
    if (!validate(body)) {
      throw new Error(
        `${method} ${template} ${status}: the body does not match the document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
      );
    }
  }
}
