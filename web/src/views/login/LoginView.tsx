import { CombinedGraphQLErrors } from '@apollo/client';
import { useApolloClient, useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { UserMessage } from '../../errors';
import { LoginDocument, MeDocument } from '../../operations';
import { sessionStore } from '../../session';
import { SubmitButton } from '../../ui/buttons';
import { ErrorAlert } from '../../ui/status';
import { useAction } from '../../ui/useAction';

const WRONG = 'The email or the password is not right. Please try again.';

/** Sign-in: email and password; the session lives as long as the tab. */
export function LoginView() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const client = useApolloClient();
  const [login] = useMutation(LoginDocument);
  const action = useAction(async () => {
    let s;
    try {
      s = (await login({ variables: { email: email.trim(), password } })).data?.login;
    } catch (error) {
      if (CombinedGraphQLErrors.is(error) && error.errors[0]?.extensions?.code === 'UNAUTHENTICATED') throw new UserMessage(WRONG);
      throw error;
    }
    if (!s) throw new UserMessage(WRONG);
    const me = await client.query({ query: MeDocument, fetchPolicy: 'no-cache', context: { headers: { authorization: `Bearer ${s.accessToken}` } } });
    const user = me.data?.me;
    if (!user) throw new UserMessage('Your profile could not be loaded. Please try again.');
    sessionStore.set({
      accessToken: s.accessToken,
      refreshToken: s.refreshToken,
      user: { id: user.id, email: user.email, role: user.role, patientId: user.patient?.id ?? null, doctorId: user.doctor?.id ?? null, doctorZone: user.doctor?.timeZone ?? null },
    });
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run();
  };
  return (
    <main className="container py-4">
      <div className="row justify-content-center">
        <form id="login-form" className="col-sm-10 col-md-6 col-lg-4 card card-body" onSubmit={submit}>
          <h1 className="h4 mb-3">Sign in to HealthSync</h1>
          <ErrorAlert problem={action.problem} />
          <label className="form-label" htmlFor="login-email">
            Email
          </label>
          <input className="form-control mb-3" id="login-email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
          <label className="form-label" htmlFor="login-password">
            Password
          </label>
          <input className="form-control mb-3" id="login-password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          <SubmitButton busy={action.busy}>Sign in</SubmitButton>
        </form>
      </div>
    </main>
  );
}
