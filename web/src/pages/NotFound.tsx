import { ButtonLink, Card } from "../ui";

export default function NotFound() {
  return (
    <Card>
      <h1>Page not found</h1>
      <p>There is nothing at this address.</p>
      <ButtonLink to="/">Go to the home page</ButtonLink>
    </Card>
  );
}
