import { type FormEvent, useEffect } from 'react';
import { Field } from '../components/Field.tsx';
import { Link } from '../components/Link.tsx';
import { ProblemMessage } from '../components/ProblemMessage.tsx';
import { RelativeTime } from '../components/RelativeTime.tsx';
import { commands, useAppState } from '../store/appStore.ts';
import { useForm } from './useForm.ts';

const TWEET_MAX = 280;

function TweetForm() {
  const { values, set, pending, problem } = useForm('tweet', { body: '' });
  const left = TWEET_MAX - values.body.length;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void commands.postTweet(values.body);
  };
  return (
    <form onSubmit={onSubmit} aria-label="Post a tweet" className="card tweet-form">
      <Field
        label="What’s happening?"
        name="body"
        value={values.body}
        onChange={set('body')}
        problem={problem}
        multiline
        maxLength={TWEET_MAX}
        required
        hint={`${left} characters left`}
      />
      <ProblemMessage problem={problem} />
      <button type="submit" disabled={pending || values.body.trim() === ''}>
        {pending ? 'Posting…' : 'Tweet'}
      </button>
    </form>
  );
}

/** The feed: everyone's tweets, or one user's (`username`), newest first. */
export function FeedView({ username }: { username: string | undefined }) {
  const feed = useAppState((s) => s.feed);
  const session = useAppState((s) => s.session);

  useEffect(() => {
    void commands.loadFeed(username);
  }, [username]);

  const tweets = feed.username === username ? (feed.data ?? []) : [];
  return (
    <section className="narrow">
      <div className="heading-row">
        <h1>{username === undefined ? 'Feed' : `@${username}`}</h1>
        <button
          type="button"
          className="secondary"
          onClick={() => void commands.loadFeed(username)}
          disabled={feed.status === 'loading'}
        >
          Refresh
        </button>
      </div>
      {username !== undefined ? (
        <p>
          <Link to={{ name: 'feed' }}>← Everyone’s tweets</Link>
        </p>
      ) : session.status === 'authenticated' ? (
        <TweetForm />
      ) : session.status === 'anonymous' ? (
        <p className="card muted">
          <Link to={{ name: 'login' }}>Log in</Link> or <Link to={{ name: 'signup' }}>sign up</Link>{' '}
          to tweet.
        </p>
      ) : null}
      <ProblemMessage problem={feed.status === 'failed' ? feed.problem : undefined} />
      {feed.status === 'loading' && tweets.length === 0 ? <p className="muted">Loading…</p> : null}
      {feed.status === 'ready' && tweets.length === 0 ? (
        <p className="muted">No tweets yet.</p>
      ) : null}
      <ol className="tweets" aria-label="Tweets" aria-busy={feed.status === 'loading'}>
        {tweets.map((tweet) => (
          <li key={tweet.id} className="tweet card">
            <div className="tweet-meta">
              <Link to={{ name: 'userFeed', username: tweet.tweetedby }} className="author">
                @{tweet.tweetedby}
              </Link>
              <span aria-hidden="true">·</span>
              <RelativeTime iso={tweet.timestamp} />
            </div>
            <p className="tweet-body">{tweet.body}</p>
          </li>
        ))}
      </ol>
    </section>
  );
}
