/**
 * The segment builder: every construct of the condition language (docs/segments.md) as a form,
 * nested to any depth. The form edits the condition's JSON directly, so the JSON view and the
 * form are two views of one value.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Condition = { [key: string]: Json };

const Kinds = ['all', 'any', 'not', 'event', 'trait', 'computed', 'identifier', 'segment'] as const;
type Kind = (typeof Kinds)[number];
const KindLabels: Record<Kind, string> = {
  all: 'all of',
  any: 'any of',
  not: 'not',
  event: 'did an event',
  trait: 'trait',
  computed: 'computed trait',
  identifier: 'has an identifier',
  segment: 'in segment',
};
const Ops = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'contains', 'starts_with', 'exists', 'not_exists', 'between'] as const;
const Aggregates = ['count', 'sum', 'min', 'max'] as const;
const Computed = ['orders_count', 'total_revenue', 'average_order_value', 'first_seen', 'last_seen', 'last_order_at', 'events_last_7d', 'orders_last_7d', 'events_last_30d', 'orders_last_30d', 'events_last_90d', 'orders_last_90d'];

export function kindOf(condition: Condition): Kind {
  return Kinds.find((k) => Object.hasOwn(condition, k)) ?? 'event';
}

export function emptyCondition(kind: Kind): Condition {
  switch (kind) {
    case 'all':
    case 'any':
      return { [kind]: [{ event: 'Order Completed' }] };
    case 'not':
      return { not: { event: 'Order Completed' } };
    case 'event':
      return { event: 'Order Completed', within: 'P30D' };
    case 'trait':
      return { trait: 'plan', op: 'eq', value: 'pro' };
    case 'computed':
      return { computed: 'orders_count', op: 'gte', value: 1 };
    case 'identifier':
      return { identifier: 'email' };
    case 'segment':
      return { segment: '' };
  }
}

/** Text typed in a value box, read as the language reads values: numbers, booleans, `{ "ago": … }` and lists as JSON, anything else as text. */
export function readValue(text: string, op: string): Json {
  const trimmed = text.trim();
  if (op === 'in' || op === 'not_in' || op === 'between') {
    if (trimmed.startsWith('[')) {
      try {
        return JSON.parse(trimmed) as Json;
      } catch {
        // Falls through to a comma-separated list.
      }
    }
    return trimmed === '' ? [] : trimmed.split(',').map((part) => readValue(part, 'eq'));
  }
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(trimmed) || trimmed === 'true' || trimmed === 'false' || trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed) as Json;
    } catch {
      return text;
    }
  }
  return text;
}

export function showValue(value: Json | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  return JSON.stringify(value);
}

/** A field of the condition as the text a box shows: a string as it is, anything else (a mistake typed in the JSON) as JSON. */
const text = (value: Json | undefined, fallback: string): string => (value === undefined ? fallback : typeof value === 'string' ? value : JSON.stringify(value));

let nextId = 0;
const uid = (name: string) => `${name}-${++nextId}`;

interface EditorProps {
  readonly condition: Condition;
  readonly onChange: (next: Condition) => void;
  readonly path: string;
  readonly onRemove?: () => void;
}

/** One condition and, for all/any/not, the conditions inside it. */
export function ConditionEditor({ condition, onChange, path, onRemove }: EditorProps) {
  const kind = kindOf(condition);
  const kindId = uid('kind');
  return (
    <fieldset class={`condition ${kind}`} aria-label={`Condition ${path}`}>
      <div class="row">
        <label for={kindId}>Kind</label>
        <select id={kindId} value={kind} onChange={(e) => onChange(emptyCondition(e.currentTarget.value as Kind))}>
          {Kinds.map((k) => (
            <option value={k} key={k}>
              {KindLabels[k]}
            </option>
          ))}
        </select>
        {onRemove ? (
          <button type="button" class="secondary" onClick={onRemove} aria-label={`Remove condition ${path}`}>
            Remove
          </button>
        ) : null}
      </div>
      {kind === 'all' || kind === 'any' ? <GroupEditor kind={kind} condition={condition} onChange={onChange} path={path} /> : null}
      {kind === 'not' ? <ConditionEditor condition={(condition.not as Condition) ?? {}} onChange={(inner) => onChange({ not: inner })} path={`${path}.not`} /> : null}
      {kind === 'event' ? <EventEditor condition={condition} onChange={onChange} path={path} /> : null}
      {kind === 'trait' || kind === 'computed' ? <ComparisonEditor condition={condition} onChange={onChange} nameKey={kind} /> : null}
      {kind === 'identifier' || kind === 'segment' ? <TextField label={kind === 'identifier' ? 'Identifier type' : 'Segment id'} value={text(condition[kind], '')} onInput={(v) => onChange({ [kind]: v })} /> : null}
    </fieldset>
  );
}

function GroupEditor({ kind, condition, onChange, path }: { kind: 'all' | 'any' } & EditorProps) {
  const children = (Array.isArray(condition[kind]) ? condition[kind] : []) as Condition[];
  const set = (items: Condition[]) => onChange({ [kind]: items });
  return (
    <div class="children">
      {children.map((child, i) => (
        <ConditionEditor
          key={i}
          condition={child}
          path={`${path}.${kind}[${i}]`}
          onChange={(next) => set(children.map((c, j) => (j === i ? next : c)))}
          onRemove={children.length > 1 ? () => set(children.filter((_, j) => j !== i)) : undefined}
        />
      ))}
      <button type="button" class="secondary" onClick={() => set([...children, emptyCondition('event')])}>
        Add condition to “{KindLabels[kind]}”
      </button>
    </div>
  );
}

function TextField({ label, value, onInput, placeholder }: { label: string; value: string; onInput: (value: string) => void; placeholder?: string }) {
  const id = uid('field');
  return (
    <span class="field">
      <label for={id}>{label}</label>
      <input id={id} value={value} placeholder={placeholder} onInput={(e) => onInput(e.currentTarget.value)} />
    </span>
  );
}

function OpField({ value, onChange, label = 'Operator' }: { value: string; onChange: (op: string) => void; label?: string }) {
  const id = uid('op');
  return (
    <span class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {Ops.map((op) => (
          <option value={op} key={op}>
            {op}
          </option>
        ))}
      </select>
    </span>
  );
}

/** `op` and `value` of a comparison; `exists`/`not_exists` take no value. */
function Comparison({ comparison, onChange }: { comparison: Condition; onChange: (next: Condition) => void }) {
  const op = text(comparison.op, 'eq');
  const withOp = (nextOp: string) => {
    const { value, ...rest } = comparison;
    onChange(nextOp === 'exists' || nextOp === 'not_exists' ? { ...rest, op: nextOp } : { ...rest, op: nextOp, value: value ?? '' });
  };
  return (
    <>
      <OpField value={op} onChange={withOp} />
      {op === 'exists' || op === 'not_exists' ? null : <ValueField value={comparison.value} op={op} onChange={(value) => onChange({ ...comparison, value })} />}
    </>
  );
}

/** Keeps what the person typed while they type (so "1." or "a," survive), and hands on the value it reads as. */
function ValueField({ value, op, onChange }: { value: Json | undefined; op: string; onChange: (value: Json) => void }) {
  const id = uid('value');
  return (
    <span class="field">
      <label for={id}>Value</label>
      <input
        id={id}
        value={showValue(value)}
        onChange={(e) => onChange(readValue(e.currentTarget.value, op))}
      />
    </span>
  );
}

function ComparisonEditor({ condition, onChange, nameKey }: { condition: Condition; onChange: (next: Condition) => void; nameKey: 'trait' | 'computed' }) {
  const name = text(condition[nameKey], '');
  const listId = uid('computed-names');
  const nameId = uid('name');
  return (
    <div class="row">
      <span class="field">
        <label for={nameId}>{nameKey === 'trait' ? 'Trait' : 'Computed trait'}</label>
        <input id={nameId} value={name} list={nameKey === 'computed' ? listId : undefined} onInput={(e) => onChange({ ...condition, [nameKey]: e.currentTarget.value })} />
        {nameKey === 'computed' ? (
          <datalist id={listId}>
            {Computed.map((c) => (
              <option value={c} key={c} />
            ))}
          </datalist>
        ) : null}
      </span>
      <Comparison comparison={condition} onChange={onChange} />
    </div>
  );
}

function EventEditor({ condition, onChange }: EditorProps) {
  const where = (Array.isArray(condition.where) ? condition.where : []) as Condition[];
  const aggregate = Aggregates.find((a) => Object.hasOwn(condition, a));
  const set = (key: string, value: Json | undefined) => {
    const next = { ...condition };
    if (value === undefined || value === '') delete next[key];
    else next[key] = value;
    onChange(next);
  };
  const aggregateId = uid('aggregate');
  const withAggregate = (kind: string) => {
    const next = { ...condition };
    for (const a of Aggregates) delete next[a];
    if (kind === 'count') next.count = { op: 'gte', value: 1 };
    else if (kind) next[kind] = { property: 'revenue', op: 'gt', value: 0 };
    onChange(next);
  };
  const aggregateValue = aggregate ? (condition[aggregate] as Condition) : undefined;
  return (
    <>
      <div class="row">
        <TextField label="Event" value={text(condition.event, '')} onInput={(v) => set('event', v)} placeholder="Order Completed or $page" />
        <TextField label="Within" value={text(condition.within, '')} onInput={(v) => set('within', v)} placeholder="P30D, PT30M (empty: all time)" />
      </div>
      {where.map((test, i) => (
        <div class="row where" key={i}>
          <span class="where-label">where</span>
          <TextField label="Property" value={text(test.property, '')} onInput={(v) => set('where', where.map((t, j) => (j === i ? { ...t, property: v } : t)))} />
          <Comparison comparison={test} onChange={(next) => set('where', where.map((t, j) => (j === i ? next : t)))} />
          <button type="button" class="secondary" onClick={() => set('where', where.length > 1 ? where.filter((_, j) => j !== i) : undefined)} aria-label={`Remove property test ${i + 1}`}>
            Remove
          </button>
        </div>
      ))}
      <div class="row">
        <button type="button" class="secondary" onClick={() => set('where', [...where, { property: '', op: 'eq', value: '' }])}>
          Add property test
        </button>
        <span class="field">
          <label for={aggregateId}>Aggregate</label>
          <select id={aggregateId} value={aggregate ?? ''} onChange={(e) => withAggregate(e.currentTarget.value)}>
            <option value="">at least once</option>
            {Aggregates.map((a) => (
              <option value={a} key={a}>
                {a}
              </option>
            ))}
          </select>
        </span>
        {aggregate && aggregateValue ? (
          <>
            {aggregate === 'count' ? null : <TextField label="Of property" value={text(aggregateValue.property, '')} onInput={(v) => set(aggregate, { ...aggregateValue, property: v })} />}
            <Comparison comparison={aggregateValue} onChange={(next) => set(aggregate, next)} />
          </>
        ) : null}
      </div>
    </>
  );
}
