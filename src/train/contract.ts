// The contract with the Python trainer (trainer/contract.json, which cosec_trainer/contract.py
// reads too): the progress events' kinds and fields, the fixture version, the data root's variable.
// Read on first use, not at import.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CosecError } from "../errors.ts";

export const CONTRACT_FILE = fileURLToPath(new URL("../../trainer/contract.json", import.meta.url));

/** trainer/contract.json is missing or not shaped as this reader expects. */
export class TrainerContractError extends CosecError {}

/** "integer", "number|null", ...; a list is an enumeration of strings. */
export type FieldType = string | string[];

export interface EventRule {
  required: Record<string, FieldType>;
  optional?: Record<string, FieldType>;
  /** The event may carry fields the contract does not list (metrics, results). */
  extra?: boolean;
}

export interface TrainerContract {
  fixtureVersion: number;
  dataRoot: { env: string; default: string };
  events: Record<string, EventRule>;
}

const TYPE_NAMES = ["string", "integer", "number", "boolean", "null", "object", "array"];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkFields(where: string, fields: unknown): void {
  if (!isRecord(fields)) throw new TrainerContractError(`${CONTRACT_FILE}: ${where} must be an object of field types`);
  for (const [name, spec] of Object.entries(fields)) {
    const ok = Array.isArray(spec)
      ? spec.every((s) => typeof s === "string")
      : typeof spec === "string" && spec.split("|").every((t) => TYPE_NAMES.includes(t));
    if (!ok) throw new TrainerContractError(`${CONTRACT_FILE}: ${where}.${name} has an unknown type ${JSON.stringify(spec)}`);
  }
}

/** Checks the file's shape, so a typo there is named here rather than failing events later. */
export function parseContract(text: string): TrainerContract {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TrainerContractError(`${CONTRACT_FILE}: not JSON (${(e as Error).message})`);
  }
  if (!isRecord(v) || !Number.isInteger(v.fixtureVersion)) throw new TrainerContractError(`${CONTRACT_FILE}: fixtureVersion must be an integer`);
  const root = v.dataRoot;
  if (!isRecord(root) || typeof root.env !== "string" || typeof root.default !== "string") {
    throw new TrainerContractError(`${CONTRACT_FILE}: dataRoot must have string env and default`);
  }
  if (!isRecord(v.events)) throw new TrainerContractError(`${CONTRACT_FILE}: events must be an object`);
  for (const [kind, rule] of Object.entries(v.events)) {
    if (!isRecord(rule)) throw new TrainerContractError(`${CONTRACT_FILE}: events.${kind} must be an object`);
    checkFields(`events.${kind}.required`, rule.required);
    if (rule.optional !== undefined) checkFields(`events.${kind}.optional`, rule.optional);
    if (rule.extra !== undefined && typeof rule.extra !== "boolean") throw new TrainerContractError(`${CONTRACT_FILE}: events.${kind}.extra must be true or false`);
  }
  return v as unknown as TrainerContract;
}

let cached: TrainerContract | undefined;

export function trainerContract(): TrainerContract {
  if (cached) return cached;
  let text: string;
  try {
    text = readFileSync(CONTRACT_FILE, "utf8");
  } catch (e) {
    throw new TrainerContractError(`cannot read ${CONTRACT_FILE}: ${(e as Error).message}`);
  }
  return (cached = parseContract(text));
}

function isType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "integer":
      return Number.isInteger(value);
    case "object":
      return isRecord(value);
    case "array":
      return Array.isArray(value);
    default:
      return typeof value === type; // string, number, boolean
  }
}

function fits(value: unknown, spec: FieldType): boolean {
  if (Array.isArray(spec)) return spec.includes(value as string);
  return spec.split("|").some((t) => isType(value, t));
}

/** What is wrong with `record` under the contract (unknown kind, missing or mistyped field), or null. */
export function eventProblem(record: Record<string, unknown>, contract: TrainerContract = trainerContract()): string | null {
  const kind = record.event;
  const rule = typeof kind === "string" && Object.hasOwn(contract.events, kind) ? contract.events[kind] : undefined;
  if (!rule) return `unknown event ${JSON.stringify(kind)} (the contract has ${Object.keys(contract.events).join(", ")})`;
  for (const name of Object.keys(rule.required)) {
    if (!Object.hasOwn(record, name)) return `event "${kind}": missing field "${name}"`;
  }
  for (const [name, value] of Object.entries(record)) {
    if (name === "event") continue;
    const spec = Object.hasOwn(rule.required, name) ? rule.required[name] : rule.optional && Object.hasOwn(rule.optional, name) ? rule.optional[name] : undefined;
    if (spec === undefined) {
      if (!rule.extra) return `event "${kind}": field "${name}" is not in the contract`;
    } else if (!fits(value, spec)) {
      return `event "${kind}": field "${name}" is ${JSON.stringify(value)}, expected ${Array.isArray(spec) ? spec.join(" or ") : spec}`;
    }
  }
  return null;
}
