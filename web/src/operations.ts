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

/**
 * What "Show more" under a paged list reads (MoreButton in ui/buttons.tsx), spread as
 * `pageInfo { ...ShowMoreFields }` after the edges. Named to sort after the areas' fragments
 * (ApptFields, Pharmacy…Fields): Apollo's manifest generator lists a document's fragments
 * alphabetically while the app sends them in spread order, and schema/web-operations.json must
 * hold each document byte for byte as sent (test/clientSchema.test.ts).
 */
export const ShowMoreFieldsFragment = graphql(`
  fragment ShowMoreFields on PageInfo {
    hasNextPage
    endCursor
  }
`);
