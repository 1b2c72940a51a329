// PLACEHOLDER page: creator/Ndas
import { Card } from "../../ui";

export default function Ndas() {
  return <Card><h1>Ndas</h1></Card>;
}
