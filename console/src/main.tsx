import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { session } from './api.js';
import { SignIn } from './sign-in.js';
import { ProfilePage, ProfileSearch } from './profiles.js';

/** Where the console is: `#/profiles`, `#/profiles/<ref>`. Hash routes, so any static host serves every page. */
function useRoute(): string {
  const [route, setRoute] = useState(location.hash.slice(1) || '/profiles');
  useEffect(() => {
    const changed = () => setRoute(location.hash.slice(1) || '/profiles');
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

function App() {
  const [signedIn, setSignedIn] = useState(session.token() !== null);
  const route = useRoute();
  useEffect(() => {
    document.title = `${title(route)} · CDP console`;
  }, [route]);
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  const profileRef = /^\/profiles\/(.+)$/.exec(route)?.[1];
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="bar">
        <span class="brand">CDP console</span>
        <nav aria-label="Pages">
          <a href="#/profiles" aria-current={route.startsWith('/profiles') ? 'page' : undefined}>Profiles</a>
        </nav>
        <button
          type="button"
          class="link"
          onClick={() => {
            session.signOut();
            setSignedIn(false);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {profileRef ? <ProfilePage profileRef={decodeURIComponent(profileRef)} key={profileRef} /> : <ProfileSearch />}
      </main>
    </>
  );
}

function title(route: string): string {
  return route.startsWith('/profiles/') ? 'Profile' : 'Profiles';
}

render(<App />, document.getElementById('app')!);
