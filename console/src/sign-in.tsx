import { useState } from 'preact/hooks';
import { checkToken, session } from './api.js';

/**
 * Sign-in with a per-person admin token (`npm run sources`). The API's authorizer decides: a
 * write key, or anything else that is not a live admin token, is refused.
 */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [state, setState] = useState<{ kind: 'idle' | 'checking' } | { kind: 'error'; message: string }>({ kind: 'idle' });
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!token.trim()) return setState({ kind: 'error', message: 'Enter your admin token.' });
    setState({ kind: 'checking' });
    try {
      if ((await checkToken(token.trim())) === 'refused') {
        return setState({ kind: 'error', message: 'This is not a valid admin token. Write keys cannot sign in; ask for an admin token (npm run sources).' });
      }
      session.signIn(token.trim());
      onSignedIn();
    } catch {
      setState({ kind: 'error', message: 'The API could not be reached. Try again.' });
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>Sign in</h1>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" autoComplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} aria-describedby={state.kind === 'error' ? 'sign-in-error' : 'token-help'} aria-invalid={state.kind === 'error'} />
        <p id="token-help" class="help">Kept in this tab only, until you sign out or close it.</p>
        {state.kind === 'error' ? (
          <p id="sign-in-error" class="error" role="alert">
            {state.message}
          </p>
        ) : null}
        <button type="submit" disabled={state.kind === 'checking'}>
          {state.kind === 'checking' ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
