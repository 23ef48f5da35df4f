// The confirmation dialog every action goes through: it says what will happen, may ask for
// values (a size, a name typed again before a delete), and shows meta's refusal (the problem's
// detail) in place, leaving the dialog open so the user can correct the input.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { clock } from './format.js';
import type { VolumeExplanation } from './types.js';

export interface DialogField {
  name: string;
  label: string;
  initial?: string;
  placeholder?: string;
  options?: string[];
  hint?: string;
}

export interface DialogSpec {
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
  fields?: DialogField[];
  /** The confirm button stays disabled until this field holds exactly this value. */
  mustType?: { field: string; value: string };
  /** Does the action; a rejection is shown in the dialog, success closes it. */
  run(values: Record<string, string>): Promise<void>;
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const code = err.code && !err.code.startsWith('HTTP_') ? ` (${err.code})` : '';
    return `${err.message}${code}`;
  }
  return (err as Error)?.message ?? String(err);
}

export function Dialog(props: { spec: DialogSpec; onClose: () => void }) {
  const { spec, onClose } = props;
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries((spec.fields ?? []).map((f) => [f.name, f.initial ?? f.options?.[0] ?? ''])),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const first = useRef<HTMLInputElement>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (first.current) first.current.focus();
    else confirmButton.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const blocked =
    spec.mustType !== undefined && values[spec.mustType.field] !== spec.mustType.value;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy || blocked) return;
    setBusy(true);
    setError(null);
    try {
      await spec.run(values);
      onClose();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title">
        <form onSubmit={submit}>
          <h2 id="dialog-title">{spec.title}</h2>
          <p class="dialog-message">{spec.message}</p>
          {(spec.fields ?? []).map((f, i) => (
            <label class="field" key={f.name}>
              <span>{f.label}</span>
              {f.options ? (
                <select
                  name={f.name}
                  value={values[f.name]}
                  onChange={(e) =>
                    setValues({ ...values, [f.name]: (e.target as HTMLSelectElement).value })
                  }
                >
                  {f.options.map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  ref={i === 0 ? first : undefined}
                  name={f.name}
                  value={values[f.name]}
                  placeholder={f.placeholder}
                  autocomplete="off"
                  spellcheck={false}
                  onInput={(e) =>
                    setValues({ ...values, [f.name]: (e.target as HTMLInputElement).value })
                  }
                />
              )}
              {f.hint ? <small>{f.hint}</small> : null}
            </label>
          ))}
          {error !== null ? (
            <p class="dialog-error" role="alert">
              {error}
            </p>
          ) : null}
          <div class="dialog-buttons">
            <button type="button" class="secondary" onClick={onClose} disabled={busy}>
              Cancel
            </button>
            <button
              ref={confirmButton}
              type="submit"
              class={spec.danger ? 'danger' : 'primary'}
              disabled={busy || blocked}
            >
              {busy ? 'Working…' : spec.confirmLabel}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}

/**
 * Meta's explanation of a volume (GET /v1/volumes/:name/explanation, the leader's): what
 * happened, what Ballast does next and until when, what the operator can do.
 */
export function ExplainDialog(props: {
  name: string;
  load: () => Promise<VolumeExplanation>;
  onClose: () => void;
}) {
  const [explanation, setExplanation] = useState<VolumeExplanation | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    props.load().then(setExplanation, (err: unknown) => setError(errorText(err)));
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') props.onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
  const e = explanation;
  return (
    <div class="backdrop" onClick={(ev) => ev.target === ev.currentTarget && props.onClose()}>
      <div class="dialog wide" role="dialog" aria-modal="true" aria-labelledby="explain-title">
        <h2 id="explain-title">Volume {props.name}</h2>
        {error !== null ? (
          <p class="dialog-error" role="alert">
            {error}
          </p>
        ) : e === null ? (
          <p class="muted">Asking meta…</p>
        ) : (
          <>
            <p>
              <span class={`badge state-${e.state}`}>{e.state}</span> {e.stateReason}
            </p>
            <h3>What happened</h3>
            {e.events.length === 0 ? (
              <p class="muted">Nothing out of the ordinary.</p>
            ) : (
              <ul>
                {e.events.map((ev, i) => (
                  <li key={i}>
                    {ev.at !== null ? <span class="muted">{clock(ev.at)} </span> : null}
                    {ev.text}
                  </li>
                ))}
              </ul>
            )}
            <h3>What Ballast does next</h3>
            {e.next.length === 0 ? (
              <p class="muted">Nothing planned.</p>
            ) : (
              <ul>
                {e.next.map((n, i) => (
                  <li key={i}>
                    {n.text}
                    {n.until !== null ? <span class="muted"> (until {clock(n.until)})</span> : null}
                  </li>
                ))}
              </ul>
            )}
            <h3>What you can do</h3>
            {e.actions.length === 0 ? (
              <p class="muted">Nothing is needed.</p>
            ) : (
              <ul>
                {e.actions.map((a, i) => (
                  <li key={i}>{a}</li>
                ))}
              </ul>
            )}
          </>
        )}
        <div class="dialog-buttons">
          <button type="button" class="primary" onClick={props.onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
