import { graphql } from './gql';

/** The documents the app shell itself sends (sign-in, renewal, sign-out, the live feed). */

export const LoginDocument = graphql(`
  mutation Login($email: EmailAddress!, $password: String!) {
    login(email: $email, password: $password) {
      accessToken
      refreshToken
      user {
        id
        email
        role
      }
    }
  }
`);

/** Who signed in, asked with the new token (a doctor's profile and a patient's record need one). */
export const MeDocument = graphql(`
  query Me {
    me {
      id
      email
      role
      patient {
        id
      }
      doctor {
        id
        timeZone
      }
    }
  }
`);

export const RefreshSessionDocument = graphql(`
  mutation RefreshSession($refreshToken: String!) {
    refreshSession(refreshToken: $refreshToken) {
      accessToken
      refreshToken
    }
  }
`);

export const LogoutDocument = graphql(`
  mutation Logout($refreshToken: String!) {
    logout(refreshToken: $refreshToken)
  }
`);

/** The clinic's settings (no sign-in needed): its time zone. */
export const ClinicSettingsDocument = graphql(`
  query ClinicSettings {
    clinic {
      timeZone
    }
  }
`);
