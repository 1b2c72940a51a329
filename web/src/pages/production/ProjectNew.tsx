// PLACEHOLDER page: production/ProjectNew
import { Card } from "../../ui";

export default function ProjectNew() {
  return <Card><h1>ProjectNew</h1></Card>;
}
