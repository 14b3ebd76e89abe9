import { Select, TextArea, TextInput } from './ui';

export type Operation = 'auto_wrap_up' | 'pop_up';

/** What a blocklist type does with a blocked call: the operation and the fields it needs. */
export interface TypeOperation {
  operation: Operation;
  businessResult: string;
  promptContent: string;
  jumpAddress: string;
}

export const OPERATION_LABEL: Record<Operation, string> = { auto_wrap_up: 'Auto Wrap Up', pop_up: 'Pop Up' };

export function typeOperationOf(v: Partial<Record<keyof TypeOperation, string | undefined>>): TypeOperation {
  return {
    operation: (v.operation as Operation | undefined) ?? 'auto_wrap_up',
    businessResult: v.businessResult ?? '',
    promptContent: v.promptContent ?? '',
    jumpAddress: v.jumpAddress ?? '',
  };
}

/** The operation's part of a type's PUT body: a Pop Up's prompt and jump address only when it is one. */
export function typeOperationBody(t: TypeOperation): Record<string, string> {
  const body: Record<string, string> = { operation: t.operation };
  if (t.businessResult.trim()) body.businessResult = t.businessResult.trim();
  if (t.operation === 'pop_up') {
    body.promptContent = t.promptContent.trim();
    body.jumpAddress = t.jumpAddress.trim();
  }
  return body;
}

/** The fields the operation asks for: prompt and jump address for a Pop Up, the business result for both. */
export function TypeOperationFields(props: {
  value: TypeOperation;
  onChange: (v: TypeOperation) => void;
  errors: Record<string, string>;
  /** Prefixes the inputs' names (a form that holds other fields of the same name). */
  namePrefix?: string;
}) {
  const { value: v, errors } = props;
  const name = (n: string) => `${props.namePrefix ?? ''}${n}`;
  const set = (k: keyof TypeOperation) => (x: string) => props.onChange({ ...v, [k]: x });
  return (
    <>
      <Select
        label="Operation type"
        name={name('operation')}
        value={v.operation}
        onChange={set('operation')}
        options={[
          { value: 'auto_wrap_up', label: OPERATION_LABEL.auto_wrap_up },
          { value: 'pop_up', label: OPERATION_LABEL.pop_up },
        ]}
      />
      {v.operation === 'pop_up' ? (
        <>
          <TextArea
            label="Prompt content"
            name={name('promptContent')}
            value={v.promptContent}
            onInput={set('promptContent')}
            error={errors.promptContent}
            required
          />
          <TextInput
            label="Jump address"
            name={name('jumpAddress')}
            value={v.jumpAddress}
            onInput={set('jumpAddress')}
            error={errors.jumpAddress}
            required
          />
        </>
      ) : null}
      <TextInput
        label="Business result"
        name={name('businessResult')}
        value={v.businessResult}
        onInput={set('businessResult')}
        error={errors.businessResult}
        required={v.operation === 'auto_wrap_up'}
      />
    </>
  );
}
