import { BadRequestException } from '@nestjs/common';
import type { NewProduct, ProductChanges } from './product.entity';

// Hand-written checks keep the sample free of a validation library; a real app would use
// class-validator with Nest's ValidationPipe.

type Body = Record<string, unknown>;

function asBody(body: unknown): Body {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestException('The body must be a JSON object');
  }
  return body as Body;
}

function text(body: Body, key: string, required: boolean): string | undefined {
  const value = body[key];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || (required && value.trim() === '')) {
    throw new BadRequestException(`"${key}" must be a${required ? ' non-empty' : ''} string`);
  }
  return value;
}

function price(body: Body, required: boolean): number | undefined {
  const value = body.price;
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new BadRequestException('"price" must be a non-negative number');
  }
  return value;
}

function featured(body: Body): boolean | undefined {
  const value = body.featured;
  if (value !== undefined && typeof value !== 'boolean') throw new BadRequestException('"featured" must be a boolean');
  return value;
}

export function parseNewProduct(input: unknown): NewProduct {
  const body = asBody(input);
  return {
    name: text(body, 'name', true) as string,
    description: text(body, 'description', false) ?? '',
    price: price(body, true) as number,
    featured: featured(body) ?? false,
  };
}

export function parseProductChanges(input: unknown): ProductChanges {
  const body = asBody(input);
  const given: ProductChanges = {
    name: text(body, 'name', false),
    description: text(body, 'description', false),
    price: price(body, false),
    featured: featured(body),
  };
  // Absent keys, not undefined values: TypeORM's update() must not see a column it should leave alone.
  const changes = Object.fromEntries(
    Object.entries(given).filter(([, value]) => value !== undefined),
  ) as ProductChanges;
  if (Object.keys(changes).length === 0) {
    throw new BadRequestException('Nothing to change: give name, description, price or featured');
  }
  return changes;
}

/** `{ "ids": [1, 2], "set": { "featured": true } }`, at most 500 ids. */
export function parseBulkUpdate(input: unknown): { ids: number[]; changes: ProductChanges } {
  const body = asBody(input);
  const ids = body.ids;
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    ids.length > 500 ||
    !ids.every((id) => Number.isInteger(id) && (id as number) > 0)
  ) {
    throw new BadRequestException('"ids" must be an array of 1 to 500 product ids');
  }
  return { ids: [...new Set(ids as number[])], changes: parseProductChanges(body.set) };
}

/** `?simulateCrash=true` (or `1`); absent means: as configured (DEMO_FAILURE). */
export function parseSimulateCrash(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  return ['1', 'true', 'yes'].includes(value.toLowerCase());
}
