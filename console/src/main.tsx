import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { session } from './api.js';
import { SignIn } from './sign-in.js';
import { Destinations } from './destinations.js';
import { LiveEvents } from './live.js';
import { Overview } from './overview.js';
import { Privacy } from './privacy.js';
import { ProfilePage, ProfileSearch } from './profiles.js';
import { SegmentEditor, SegmentList, SegmentPage } from './segments.js';
import { Sources } from './sources.js';

/** Where the console is, such as `#/profiles/<ref>` or `#/segments/new`. Hash routes, so any static host serves every page. */
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
  return (
    <>
      {/* Routes live in the hash, so the skip link moves focus itself rather than navigating to #main. */}
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="bar">
        <span class="brand">CDP console</span>
        <nav aria-label="Pages">
          {Pages.map(([href, label]) => (
            <a href={`#${href}`} key={href} aria-current={route.startsWith(href) ? 'page' : undefined}>
              {label}
            </a>
          ))}
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
        <Page route={route} />
      </main>
    </>
  );
}

const Pages = [
  ['/overview', 'Overview'],
  ['/live', 'Live events'],
  ['/profiles', 'Profiles'],
  ['/segments', 'Segments'],
  ['/destinations', 'Destinations'],
  ['/sources', 'Sources'],
  ['/privacy', 'Privacy'],
] as const;

function Page({ route }: { route: string }) {
  const [, section, rest] = /^\/([a-z]+)\/?(.*)$/.exec(route) ?? [];
  const part = rest ? decodeURIComponent(rest) : undefined;
  switch (section) {
    case 'overview':
      return <Overview />;
    case 'live':
      return <LiveEvents />;
    case 'profiles':
      return part ? <ProfilePage profileRef={part} key={part} /> : <ProfileSearch />;
    case 'segments':
      if (!part) return <SegmentList />;
      if (part === 'new') return <SegmentEditor key="new" />;
      if (part.endsWith('/edit')) return <SegmentEditor segmentId={part.slice(0, -'/edit'.length)} key={part} />;
      return <SegmentPage segmentId={part} key={part} />;
    case 'destinations':
      return <Destinations />;
    case 'sources':
      return <Sources />;
    case 'privacy':
      return <Privacy />;
    default:
      return (
        <p class="error" role="alert">
          There is no such page. <a href="#/profiles">Go to profiles</a>.
        </p>
      );
  }
}

function title(route: string): string {
  const page = Pages.find(([href]) => route.startsWith(href));
  return page ? page[1] : 'Not found';
}

render(<App />, document.getElementById('app')!);
